/**
 * A point that reaches the DEFAULT partition while a month is being attached, as a point under an
 * upload load does: processing's transaction has written it to DEFAULT but not committed when the
 * job premakes its month, or when `dcs archive restore` brings its month back. The attach waits
 * for that transaction and moves the point in; it must not fail with PostgreSQL's "updated
 * partition constraint for default partition would be violated by some row" (before the fix, it
 * did: the point was committed after the move out of DEFAULT and before the ATTACH).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderStore } from '../../src/object-store.ts';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { restorePartition } from '../../src/archive/restore-partition.ts';
import { loadConfig } from '../../src/config.ts';
import { listPartitions, monthPartitionName, monthStart } from '../../src/db/partitions.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let archiveDir: string;
const log = createLogger('silent');

beforeAll(async () => {
  db = await createTestDatabase();
  archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-late-archive-'));
});
afterAll(async () => {
  await db?.drop();
  if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
});

const INSERT = `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
                VALUES ('late', 'g', 'G', $1, 'timestamp', now(), 1, md5($2)::uuid, '{}')`;

async function whereIs(label: string): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT tableoid::regclass::text AS part FROM data_points WHERE content_digest = md5($1)::uuid`, [label]);
  return rows.map((r) => r.part as string);
}

/**
 * Runs `attach` while another session holds an uncommitted point dated `created` (in DEFAULT), and
 * commits that point once `attach` waits for a lock, as processing commits its batch meanwhile.
 */
async function attachWhilePointInFlight<T>(created: Date, label: string, attach: () => Promise<T>): Promise<T> {
  const inFlight = new pg.Client({ connectionString: db.url });
  await inFlight.connect();
  try {
    await inFlight.query('BEGIN');
    await inFlight.query(INSERT, [created, label]);
    const { rows: [{ pid }] } = await inFlight.query('SELECT pg_backend_pid() AS pid');
    const attaching = attach();
    attaching.catch(() => undefined); // awaited below
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`, [pid]);
      if (rows[0].n > 0) break;
      if (Date.now() > deadline) throw new Error('the attach never waited for the point in flight');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await inFlight.query('COMMIT');
    return await attaching;
  } finally {
    await inFlight.end();
  }
}

describe('a point committed into DEFAULT while its month is attached', () => {
  it('moves into the month the job premakes', async () => {
    const premadeUntil = (await listPartitions(db.pool, 'data_points')).filter((p) => p.upper).at(-1)!.upper!;
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    const counts = await attachWhilePointInFlight(new Date(premadeUntil.getTime() + 5 * 86_400_000), 'premade',
      () => maintainPartitions({ pool: db.pool, config, log }, monthStart(new Date(), 1)));
    // premade: the month of data_points and the month of bundles
    expect(counts).toMatchObject({ premade: 2, movedFromDefault: 1, defaultRows: 0 });
    expect(await whereIs('premade')).toEqual([monthPartitionName('data_points', premadeUntil)]);
  });

  it('moves into the month `dcs archive restore` brings back', async () => {
    const first = (await listPartitions(db.pool, 'data_points')).find((p) => p.name === 'data_points_history')!.upper!;
    const cold = monthPartitionName('data_points', first);
    await db.pool.query(INSERT, [new Date(first.getTime() + 86_400_000), 'archived']);
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ARCHIVE_DIR: archiveDir, ARCHIVE_AFTER_MONTHS: '3' });
    expect(await maintainPartitions({ pool: db.pool, config, log }, new Date(monthStart(first, 4).getTime() + 14 * 86_400_000))).toMatchObject({ archived: 2, archivedRows: 1 });
    expect(await whereIs('archived')).toEqual([]);

    const restored = await attachWhilePointInFlight(new Date(first.getTime() + 2 * 86_400_000), 'late',
      () => restorePartition({ pool: db.pool, store: folderStore(archiveDir), log }, cold));
    expect(restored).toEqual({ partition: cold, rows: 1, movedFromDefault: 1 });
    expect(await whereIs('archived')).toEqual([cold]);
    expect(await whereIs('late')).toEqual([cold]);
  });
});
