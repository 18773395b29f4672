/**
 * Migration 0032 on a copy with a million points (issue 22 M1): data_points becomes partitioned
 * by month of `created` without rewriting them. The old table is attached as the history
 * partition with its own heap and indexes (same relfilenodes), future-dated rows move to the
 * premade months or DEFAULT, nothing is lost or duplicated, and uploads and processing work on
 * the partitioned table afterwards. Filling the copy takes most of this file's time (~20-40 s).
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { defaultPartitionRows, monthPartitionName, monthStart } from '../../src/db/partitions.ts';
import { completePointDigestsIfEmpty } from '../../src/db/point-digests.ts';
import { createLogger } from '../../src/log.ts';
import { processBatch } from '../../src/processing/process-bundles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, createJson, withSource } from '../processing/support.ts';

const POINTS = 1_000_000;
/** Points dated in the months premade ahead, and past them (one in year 5000, as clients send). */
const SOON = 500;
const FAR = 3;

let db: TestDatabase;
let server: TestServer;
const log = createLogger('silent');
const notices: string[] = [];
let before: Map<string, { filenode: number; name: string }>;
/** The identity sequence's last value before the migration (the PDK API's `latest`). */
let lastIdBefore: number;

const nextMonth = monthStart(new Date(), 1);
/** The unique key's index before and after migration 0035 (by definition, as `filenodes` keys them). */
const KEY_BEFORE_0035 = 'btree (created, content_digest)';
const KEY_AFTER_0035 = 'btree (source, created, content_digest)';

/** relfilenode of data_points and of each of its indexes, by index definition (names change). */
async function filenodes(table: string): Promise<Map<string, { filenode: number; name: string }>> {
  const { rows } = await db.pool.query(
    `SELECT 'table' AS key, relname AS name, relfilenode::int AS filenode FROM pg_class WHERE oid = $1::regclass
     UNION ALL
     SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''), c.relname, c.relfilenode::int
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass`,
    [table],
  );
  return new Map(rows.map((r) => [r.key, { filenode: r.filenode, name: r.name }]));
}

beforeAll(async () => {
  db = await createTestDatabase({ before: 32 });
  const client = await db.pool.connect();
  try {
    await completePointDigestsIfEmpty(client); // migration 0009's step, done as on any database here
    await client.query(`SET synchronous_commit = off`);
    // Two years of history, 30 s apart, 100 sources.
    await client.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT 'src-' || (g % 100), 'webmunk-extension-element-show', 'Element Show', 'UA', $2::timestamptz - g * interval '30 seconds',
              'timestamp', now(), 1 + g / 1000, md5(g::text)::uuid, jsonb_build_object('n', g)
       FROM generate_series(1, $1::int) g`,
      [POINTS - SOON - FAR, monthStart(new Date()).toISOString()],
    );
    await client.query(
      `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT 'src-future', 'webmunk-extension-element-show', 'Element Show', $2::timestamptz + g * interval '10 hours', 'timestamp', now(), 1,
              md5('soon' || g)::uuid, jsonb_build_object('soon', g)
       FROM generate_series(1, $1::int) g
       UNION ALL
       SELECT 'src-future', 'webmunk-extension-element-show', 'Element Show', timestamptz '5000-01-01' + g * interval '1 day', 'timestamp', now(), 1,
              md5('far' || g)::uuid, jsonb_build_object('far', g)
       FROM generate_series(1, $3::int) g`,
      [SOON, nextMonth.toISOString(), FAR],
    );
  } finally {
    client.release();
  }
  before = await filenodes('data_points');
  lastIdBefore = await lastId();
  const started = performance.now();
  await migrate(db.pool, (message) => notices.push(message));
  // Printed for docs/partitions.md, not asserted (no timed tests).
  console.log(`migration 0032 and the months premade, ${POINTS.toLocaleString('en-US')} points: ${((performance.now() - started) / 1000).toFixed(1)} s (load average ${os.loadavg()[0].toFixed(1)})`);
  // 0035's own figure (docs/partitions.md): the unique key with source, built on every partition
  console.log(notices.find((n) => n.includes('unique key (source, created, content_digest) built')));
  server = await startTestServer({}, { db });
}, 600_000);
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function lastId(): Promise<number> {
  const { rows } = await db.pool.query(`SELECT pg_sequence_last_value(pg_get_serial_sequence('data_points', 'id')::regclass) AS id`);
  return Number(rows[0].id);
}

async function countIn(table: string): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('migration 0032 on a million points', () => {
  it('made data_points a partitioned table with the history, the months ahead and DEFAULT', async () => {
    const { rows } = await db.pool.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'data_points'::regclass ORDER BY c.relname`,
    );
    const months = Array.from({ length: 12 }, (_, i) => monthPartitionName('data_points', monthStart(new Date(), i + 1)));
    expect(rows.map((r) => r.name).sort()).toEqual(['data_points_default', 'data_points_history', ...months].sort());
    expect(rows.find((r) => r.name === 'data_points_history').bound).toMatch(/^FOR VALUES FROM \(MINVALUE\) TO \('.+'\)$/);
    const { rows: kind } = await db.pool.query(`SELECT relkind FROM pg_class WHERE oid = 'data_points'::regclass`);
    expect(kind[0].relkind).toBe('p');
  });

  it('kept every point once: the past in place, the future dates moved out of the history partition', async () => {
    expect(await countIn('data_points')).toBe(POINTS);
    expect(await countIn('data_points_history')).toBe(POINTS - SOON - FAR);
    expect(await countIn(`data_points WHERE created >= '${nextMonth.toISOString()}' AND created < '5000-01-01'`)).toBe(SOON);
    expect(await countIn('data_points_default')).toBe(FAR);
    expect(await defaultPartitionRows(db.pool, 'data_points')).toBe(FAR); // what the M2 job will watch
    expect(await countIn('(SELECT DISTINCT created, content_digest FROM data_points) k')).toBe(POINTS);
  });

  it('did not rewrite the heap nor rebuild the indexes: they are attached to the parent', async () => {
    const after = await filenodes('data_points_history');
    expect(after.get('table')).toEqual({ name: 'data_points_history', filenode: before.get('table')!.filenode });
    expect(after.size).toBe(before.size);
    // ... except the unique key, which migration 0035 built anew with source
    expect(after.has(KEY_BEFORE_0035)).toBe(false);
    expect(after.has(KEY_AFTER_0035)).toBe(true);
    const { rows } = await db.pool.query(
      `SELECT c.relname AS name, p.relname AS parent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE c.relkind = 'i' AND p.relkind = 'I' AND c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'data_points_history'::regclass)`,
    );
    const parentOf = new Map(rows.map((r) => [r.name, r.parent]));
    for (const [definition, old] of before) {
      if (definition === 'table' || definition === KEY_BEFORE_0035) continue;
      const now = after.get(definition);
      expect(now?.filenode, definition).toBe(old.filenode);
      expect(parentOf.get(now!.name), definition).toBe(old.name); // the parent's index took the old name
    }
  });

  it('reported the rows it moved', async () => {
    const { rows } = await db.pool.query(`SELECT version FROM schema_migrations WHERE version = 32`);
    expect(rows).toHaveLength(1);
    expect(notices.join('\n')).toContain(`${SOON + FAR} dated later moved to data_points_default`);
    expect(notices.join('\n')).toContain(`${SOON} points moved into them from data_points_default`);
  });

  it('keeps the identity: the unique key holds across partitions and ids go on from where they were', async () => {
    expect(lastIdBefore).toBe(POINTS);
    expect(await lastId()).toBe(lastIdBefore);
    const { rows: max } = await db.pool.query(`SELECT max(id)::bigint AS id FROM data_points`);
    await expect(db.pool.query(
      `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties FROM data_points_history LIMIT 1`,
    )).rejects.toThrow(/data_points_identity|duplicate key/);
    const { rows } = await db.pool.query(
      `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
       VALUES ('src-new', 'g', 'G', '52217-01-01', 'timestamp', now(), 1, md5('52217')::uuid, '{}') RETURNING id, tableoid::regclass::text AS part`,
    );
    expect(Number(rows[0].id)).toBeGreaterThan(Number(max[0].id));
    expect(rows[0].part).toBe('data_points_default'); // year 52217 made no partition
    await db.pool.query(`DELETE FROM data_points WHERE source = 'src-new'`);
  });

  it('stores uploads through the partitioned table: new points added, a re-sent one not duplicated', async () => {
    const points = withSource(samples(2, 7), 'after-0032');
    const first = await createJson(server, JSON.stringify(points));
    await processBatch({ pool: server.running.db.pool, config: server.config, log });
    expect(await bundle(server, first)).toMatchObject({ status: 'processed', points_added: 2, points_rejected: 0 });
    const again = await createJson(server, JSON.stringify([points[1]]));
    await processBatch({ pool: server.running.db.pool, config: server.config, log });
    expect(await bundle(server, again)).toMatchObject({ status: 'processed', points_added: 0 });
    expect(await countIn(`data_points WHERE source = 'after-0032'`)).toBe(2);
    const { rows } = await db.pool.query(`SELECT point_count::int FROM data_sources WHERE source = 'after-0032'`);
    expect(rows[0].point_count).toBe(2);
  });
});
