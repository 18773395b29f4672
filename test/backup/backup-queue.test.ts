/**
 * Migration 0017's backup queue: every bundle, however it is inserted, is queued once; a bundle
 * stored before the migration is queued by it.
 */
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testUpload } from '../helpers/uploads.ts';
import { useTestServer } from '../helpers/server.ts';

describe('backup queue', () => {
  const server = useTestServer();

  it('queues each upload that is stored, by whatever transport', async () => {
    for (const [i, transport] of (['form', 'gzip-form', 'create', 'put-gzip'] as const).entries()) {
      const upload = testUpload(i, transport);
      const response = await fetch(`${server.baseUrl}/data/${upload.path}`, upload.init);
      expect(response.status, transport).toBeLessThan(300);
    }
    const { rows } = await server.db.pool.query('SELECT b.id, q.bundle_id FROM bundles b LEFT JOIN backup_queue q ON q.bundle_id = b.id ORDER BY b.id');
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.bundle_id !== null)).toBe(true);
  });

  it('queues every row of a multi-row insert, in one statement', async () => {
    await server.db.pool.query(`INSERT INTO bundles (endpoint, transport, body) SELECT 'bundle', 'json', '[]'::bytea FROM generate_series(1, 50)`);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM bundles b WHERE NOT EXISTS (SELECT 1 FROM backup_queue q WHERE q.bundle_id = b.id)');
    expect(rows[0].n).toBe(0);
  });
});

describe('backup queue and restarted ids', () => {
  const server = useTestServer();
  it('never fails an insert into bundles because its id is already queued', async () => {
    await server.db.pool.query(`INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'json', '[]')`);
    await server.db.pool.query('TRUNCATE bundles RESTART IDENTITY CASCADE');
    const { rows } = await server.db.pool.query(`INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'json', '[]') RETURNING id::int`);
    expect(rows).toEqual([{ id: 1 }]);
    expect((await server.db.pool.query('SELECT bundle_id::int FROM backup_queue')).rows).toEqual([{ bundle_id: 1 }]);
  });
});

describe('migration 0017', () => {
  it('queues the bundles stored before it', async () => {
    const db = await createTestDatabase({ before: 17 });
    try {
      await db.pool.query(`INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'json', '[]'), ('point', 'json', '{}')`);
      await migrate(db.pool);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM backup_queue');
      expect(rows[0].n).toBe(2);
    } finally {
      await db.drop();
    }
  });
});
