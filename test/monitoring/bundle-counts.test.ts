/**
 * The bundle counters (migration 0031, monitoring/bundle-counts.repository.ts): equal to count(*)
 * over bundles after every path that writes bundles (uploads, undecodable uploads, processing,
 * processing failures, reprocess, erasure, retention), with folds in between and concurrent
 * uploads; what /metrics and server-health report; the migration's back-fill and autovacuum
 * settings; the dead-tuple metric.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleRetentionJob } from '../../src/backup/bundle-retention.job.ts';
import { eraseSource } from '../../src/data-quality/erasure.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Pool } from '../../src/db/database.ts';
import { foldBundleCounts, readBundleCounts } from '../../src/monitoring/bundle-counts.repository.ts';
import { readDeadTuples } from '../../src/monitoring/dead-tuples.ts';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { readStatus } from '../../src/monitoring/status.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { hoursAgo, pointAt, runOk } from './support.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ BUNDLE_RETENTION_DAYS: '7', PROCESS_MAX_ATTEMPTS: '1' });
});
afterAll(async () => {
  await server?.stop();
});

async function countedByScan(pool: Pool) {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS received, count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'errored')::int AS errored, coalesce(sum(points_rejected), 0)::int AS points_rejected FROM bundles`,
  );
  return rows[0];
}

/** The counters equal count(*) now, before and after a fold; returns the counts. */
async function expectExact(step: string) {
  const scanned = await countedByScan(server.db.pool);
  expect(await readBundleCounts(server.db.pool), step).toEqual(scanned);
  await foldBundleCounts(server.db.pool);
  expect(await readBundleCounts(server.db.pool), `${step}, folded`).toEqual(scanned);
  return scanned;
}

async function postUndecodable(): Promise<void> {
  const form = new URLSearchParams({ compression: 'gzip', payload: Buffer.from('not gzip').toString('base64') }).toString();
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  expect(response.status).toBe(400);
}

describe('bundle counters', () => {
  it('equal count(*) after uploads, processing, failures, reprocess, erasure and retention', async () => {
    expect(await expectExact('empty')).toEqual({ received: 0, pending: 0, errored: 0, points_rejected: 0 });

    await postGzip(server, [pointAt('bc-a', hoursAgo(1)), pointAt('bc-b', hoursAgo(2))]);
    await postGzip(server, [pointAt('bc-a', hoursAgo(3))]);
    await postGzip(server, [pointAt('bc-b', hoursAgo(1)), 42 as never]); // 42: a point processing rejects
    await postUndecodable();
    expect(await expectExact('uploads')).toEqual({ received: 4, pending: 3, errored: 1, points_rejected: 0 });

    // A bundle that fails processing (PROCESS_MAX_ATTEMPTS=1: errored at once).
    const broken = await postGzip(server, [pointAt('bc-c', hoursAgo(1))]);
    await server.db.pool.query(`UPDATE bundles SET body = 'garbage', compression = 'gzip' WHERE id = $1`, [broken]);
    await server.process();
    expect(await expectExact('processing and a failure')).toEqual({ received: 5, pending: 0, errored: 2, points_rejected: 1 });

    expect(await queueReprocess(server.db.pool, { source: 'bc-a' })).toBe(2);
    expect(await expectExact('reprocess queued')).toMatchObject({ received: 5, pending: 2, errored: 2 });
    await server.process();
    expect(await expectExact('reprocessed')).toMatchObject({ received: 5, pending: 0, errored: 2, points_rejected: 1 });

    // Erasure deletes bc-b's bundles: the one with only bc-b's point goes, the mixed one stays.
    await eraseSource(server.db.pool, 'bc-b', 'test');
    expect(await expectExact('erasure')).toEqual({ received: 4, pending: 0, errored: 2, points_rejected: 0 });

    await server.db.pool.query(`UPDATE bundles SET received_at = now() - interval '30 days' WHERE status = 'processed'`);
    expect(await runOk(server.db.pool, server.config, bundleRetentionJob)).toEqual({ dropped: 2 });
    expect(await expectExact('retention')).toEqual({ received: 2, pending: 0, errored: 2, points_rejected: 0 });

    // What server-health, /metrics and dcs status (the system-health page) report are those counters.
    expect(await readStatus(server.db.pool, server.config.spoolDir)).toMatchObject({ bundles: 2, bundlesPending: 0, bundlesErrored: 2, bundlesProcessed: 0 });
    expect(await runOk(server.db.pool, server.config, serverHealthJob)).toMatchObject({ bundlesReceived: 2, bundlesPending: 0, bundlesErrored: 2 });
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^dcs_bundles_received_total 2$/m);
    expect(metrics).toMatch(/^dcs_bundles_errored_total 2$/m);
    expect(metrics).toMatch(/^dcs_bundles_processed_total 0$/m);
  });

  it('stay exact under concurrent uploads while folds run', async () => {
    const before = await countedByScan(server.db.pool);
    const uploads = Array.from({ length: 40 }, (_, i) => postGzip(server, [pointAt(`bc-many-${i % 7}`, hoursAgo(1))]));
    const folds = Array.from({ length: 8 }, () => foldBundleCounts(server.db.pool));
    await Promise.all([...uploads, ...folds]);
    const after = await expectExact('concurrent uploads');
    expect(after.received - before.received).toBe(40);
    expect(after.pending - before.pending).toBe(40);
    // folded to one row
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM bundle_counts');
    expect(rows[0].n).toBe(1);
  });
});

describe('migration 0031', () => {
  it('back-fills the counters from the bundles already stored', async () => {
    const db = await createTestDatabase({ before: 31 });
    try {
      await db.pool.query(
        `INSERT INTO bundles (endpoint, transport, body, status) SELECT 'bundle', 'test', '\\x00', s FROM unnest(ARRAY['pending', 'pending', 'processed', 'errored', 'processed', 'processed']) AS s`,
      );
      await migrate(db.pool);
      expect(await readBundleCounts(db.pool)).toEqual({ received: 6, pending: 2, errored: 1, points_rejected: 0 });
      await db.pool.query(`DELETE FROM bundles WHERE status = 'pending'`);
      expect(await readBundleCounts(db.pool)).toEqual({ received: 4, pending: 0, errored: 1, points_rejected: 0 });
    } finally {
      await db.drop();
    }
  });

  it('0036 back-fills the points rejected so far, and counts later rejections', async () => {
    const db = await createTestDatabase({ before: 36 });
    try {
      await db.pool.query(
        `INSERT INTO bundles (endpoint, transport, body, status, points_rejected) SELECT 'bundle', 'test', '\\x00', 'processed', r FROM unnest(ARRAY[3, NULL, 0, 4]) AS r`,
      );
      await migrate(db.pool);
      expect(await readBundleCounts(db.pool)).toEqual({ received: 4, pending: 0, errored: 0, points_rejected: 7 });
      await db.pool.query(`UPDATE bundles SET points_rejected = 5 WHERE points_rejected IS NULL`);
      await db.pool.query(`DELETE FROM bundles WHERE points_rejected = 3`);
      expect(await readBundleCounts(db.pool)).toEqual({ received: 3, pending: 0, errored: 0, points_rejected: 9 });
    } finally {
      await db.drop();
    }
  });

  it('gives bundles the queue autovacuum settings', async () => {
    const db = await createTestDatabase();
    try {
      // on each partition (migration 0034): a partitioned table takes no storage parameters itself
      const { rows } = await db.pool.query(`SELECT c.reloptions FROM pg_partition_tree('bundles') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf`);
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows) expect(row.reloptions).toEqual(['autovacuum_vacuum_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02', 'autovacuum_vacuum_insert_scale_factor=0.02']);
    } finally {
      await db.drop();
    }
  });
});

describe('dead-tuple metric', () => {
  it('sums n_dead_tup over a table and its partitions, and /metrics reports the queue and data_points', async () => {
    // One connection: this backend's statistics are flushed by pg_stat_force_next_flush and read here.
    const db = await createTestDatabase();
    const one = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await one.query(`CREATE TABLE dead_test (n int) PARTITION BY RANGE (n);
        CREATE TABLE dead_test_low PARTITION OF dead_test FOR VALUES FROM (0) TO (100);
        CREATE TABLE dead_test_high PARTITION OF dead_test FOR VALUES FROM (100) TO (200);
        CREATE TABLE dead_plain (n int);
        INSERT INTO dead_test SELECT generate_series(0, 199);
        INSERT INTO dead_plain SELECT generate_series(0, 9)`);
      await one.query('DELETE FROM dead_test WHERE n < 3 OR n >= 196');
      await one.query('DELETE FROM dead_plain WHERE n < 5');
      await one.query('SELECT pg_stat_force_next_flush()');
      expect(await readDeadTuples(one, ['dead_test', 'dead_plain', 'no_such_table'])).toEqual([
        { table: 'dead_test', dead: 7 },
        { table: 'dead_plain', dead: 5 },
        { table: 'no_such_table', dead: 0 },
      ]);
    } finally {
      await one.end();
      await db.drop();
    }
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toContain('# TYPE dcs_table_dead_tuples gauge');
    expect(metrics).toMatch(/^dcs_table_dead_tuples\{table="bundles"\} \d+$/m);
    expect(metrics).toMatch(/^dcs_table_dead_tuples\{table="data_points"\} \d+$/m);
  });
});
