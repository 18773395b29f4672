/**
 * Migration 0030 fills source_latest_status from the points already stored: each source's newest
 * pdk-system-status point, by `created` (then content digest), and nothing for a source without one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ before: 30 });
});
afterAll(async () => db?.drop());

describe('migration 0030', () => {
  it('keeps each source its newest status point from data_points', async () => {
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'create', '\\x5b5d') RETURNING id`);
    const bundle = rows[0].id;
    const point = (source: string, type: string, created: string, digest: string | null, pending: number) => db.pool.query(
      // content_hash: the former key, still there until migration 0009's backfill ends (db/point-digests.ts)
      `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, content_hash, properties)
       VALUES ($1, $2, $2, $3, 'metadata', now(), $4, $5, (random() * 1e15)::int8, jsonb_build_object('pending-points', $6::int))`,
      [source, type, created, bundle, digest, pending],
    );
    for (const source of ['two-reports', 'same-time', 'no-status', 'undigested']) {
      await db.pool.query(`INSERT INTO data_sources (source, first_seen, point_count) VALUES ($1, now(), 1)`, [source]);
    }
    await point('two-reports', 'pdk-system-status', '2026-03-01T10:00:00Z', '10000000-0000-0000-0000-000000000000', 9000);
    await point('two-reports', 'pdk-system-status', '2026-03-01T12:00:00Z', '00000000-0000-0000-0000-000000000001', 12);
    await point('two-reports', 'webmunk-extension-action', '2026-03-01T13:00:00Z', '20000000-0000-0000-0000-000000000000', 7);
    await point('same-time', 'pdk-system-status', '2026-03-01T12:00:00Z', 'a0000000-0000-0000-0000-000000000000', 1);
    await point('same-time', 'pdk-system-status', '2026-03-01T12:00:00Z', 'b0000000-0000-0000-0000-000000000000', 2);
    await point('no-status', 'webmunk-extension-action', '2026-03-01T12:00:00Z', '30000000-0000-0000-0000-000000000000', 3);
    // migration 0009's backfill has not reached it yet
    await point('undigested', 'pdk-system-status', '2026-03-01T12:00:00Z', null, 4);

    expect(await migrate(db.pool)).toContain('0030-maintained-reads');
    const latest = await db.pool.query<{ source: string; created: Date; content_digest: string; pending: string }>(
      `SELECT source, created, content_digest, properties ->> 'pending-points' AS pending FROM source_latest_status ORDER BY source`,
    );
    expect(latest.rows).toEqual([
      { source: 'same-time', created: new Date('2026-03-01T12:00:00Z'), content_digest: 'b0000000-0000-0000-0000-000000000000', pending: '2' },
      { source: 'two-reports', created: new Date('2026-03-01T12:00:00Z'), content_digest: '00000000-0000-0000-0000-000000000001', pending: '12' },
      { source: 'undigested', created: new Date('2026-03-01T12:00:00Z'), content_digest: '00000000-0000-0000-0000-000000000000', pending: '4' },
    ]);
  });
});
