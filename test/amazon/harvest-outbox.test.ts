/**
 * The ASIN harvest's outbox (`harvest_queue`, migration 0029; issue 22 §5 T3) with the real
 * processing code: every new point of the types the harvest reads is queued once, in the
 * transaction that stores it; processing transactions that commit out of order, with harvests
 * run while some are still open, get every ASIN point harvested exactly once, without the harvest
 * taking a table lock or waiting for them; a harvest that fails gives its rows back; a point
 * queued twice (re-stored by `dcs reprocess` before it was read) counts once.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import { ASIN_TYPES } from '../../src/amazon/harvested-types.ts';
import { createLogger } from '../../src/log.ts';
import { processBatch, type ProcessingDeps } from '../../src/processing/process-bundles.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createJson, withSource } from '../processing/support.ts';

const server = useTestServer();
let pool: pg.Pool | undefined;
/** Connections enough for two open processing transactions, their lock holders, the harvest and a watcher. */
const db = () => (pool ??= new pg.Pool({ connectionString: server.db.url, max: 12 }));
afterAll(async () => {
  await pool?.end();
});

/** An element-show of `source` whose markup shows the product `asin`, created `second` s after a fixed time. */
function show(source: string, asin: string, second: number): Point {
  const [point] = withSource(samples(2), source);
  point['passive-data-metadata']!.timestamp = 1_700_000_000 + second;
  point['element-content*'] = `<div data-asin="${asin}"></div>`;
  return point;
}

const queued = async () => (await db().query('SELECT count(*)::int AS n FROM harvest_queue')).rows[0].n as number;
const productPoints = async (prefix: string) =>
  (await db().query(`SELECT asin, points::int FROM amazon_products WHERE asin LIKE $1 ORDER BY asin`, [`${prefix}%`])).rows as { asin: string; points: number }[];

/** Until `n` backends of this database wait for a lock (bounded: 20 s). */
async function waitForLockWaits(n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${n} backends waited for a lock`);
}

/**
 * Watches pg_locks and pg_stat_activity until stopped: every lock on data_points or harvest_queue
 * stronger than a writer's (a SHARE lock or more, held or asked for), and every LOCK TABLE
 * statement other than processing's own ROW EXCLUSIVE one.
 */
function watchLocks(): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let running = true;
  const watching = (async () => {
    const client = await db().connect();
    try {
      while (running) {
        const { rows } = await client.query(
          `SELECT l.relation::regclass::text || ' ' || l.mode AS what FROM pg_locks l
           WHERE l.locktype = 'relation' AND l.relation IN ('data_points'::regclass, 'harvest_queue'::regclass)
             AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
           UNION ALL
           SELECT query FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ~* 'LOCK\\s+TABLE' AND query !~* 'ROW EXCLUSIVE MODE'`,
        );
        for (const row of rows) seen.add(row.what);
      }
    } finally {
      client.release();
    }
  })();
  return {
    async stop() {
      running = false;
      await watching;
      return [...seen];
    },
  };
}

/** A transaction holding the data_sources row of `source`: a batch of that source's points blocks on it after storing them, before it commits. */
async function holdSource(source: string): Promise<{ release(): Promise<void> }> {
  const client = await db().connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM data_sources WHERE source = $1 FOR UPDATE', [source]);
  return {
    async release() {
      await client.query('COMMIT');
      client.release();
    },
  };
}

describe('the harvest outbox', () => {
  it('queues every new point of the harvested types once, and no other point', async () => {
    const points = withSource(samples(0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12), 'out-types');
    const text = JSON.stringify(points);
    await createJson(server, text);
    await createJson(server, text); // the same points again: stored once, queued once
    await server.process();
    const { rows } = await db().query(
      `SELECT (SELECT count(*)::int FROM data_points WHERE generator_id = ANY($1::text[])) AS harvested_types,
              (SELECT count(*)::int FROM data_points) AS all_points,
              (SELECT count(*)::int FROM harvest_queue q JOIN data_points d USING (source, created, content_digest) WHERE d.generator_id = ANY($1::text[])) AS queued_of_them,
              (SELECT count(*)::int FROM harvest_queue) AS queued`,
      [ASIN_TYPES],
    );
    expect(rows[0].harvested_types).toBeGreaterThan(0);
    expect(rows[0].all_points).toBeGreaterThan(rows[0].harvested_types); // other types are stored, not queued
    expect(rows[0].queued_of_them).toBe(rows[0].harvested_types);
    expect(rows[0].queued).toBe(rows[0].harvested_types);
    expect((await harvestAsins(db(), server.config)).points).toBe(rows[0].harvested_types);
    expect(await queued()).toBe(0);
  });

  it('harvests every point exactly once while processing transactions commit out of order, with no table lock', async () => {
    const sources = ['out-1', 'out-2', 'out-3', 'out-4'];
    const asin = (s: number, k: number) => `B0OUT${s}${k}AAA`;
    // Each source's data_sources row exists (a first point, harvested), so a transaction can hold it.
    for (const [s, source] of sources.entries()) await createJson(server, JSON.stringify([show(source, asin(s + 1, 9), s * 100 + 99)]));
    await server.process();
    await harvestAsins(db(), server.config);
    expect(await queued()).toBe(0);
    // One bundle per source, three points each, uploaded in this order: source 1's gets the smallest ids.
    for (const [s, source] of sources.entries()) {
      await createJson(server, JSON.stringify([0, 1, 2].map((k) => show(source, asin(s + 1, k), s * 100 + k))));
    }
    const deps: ProcessingDeps = { pool: db(), config: { ...server.config, processBatchBundles: 1 }, log: createLogger('silent') };
    // Sources 1 and 2: batches that store their points, queue them and then wait, uncommitted.
    const hold1 = await holdSource('out-1');
    const hold2 = await holdSource('out-2');
    const open1 = processBatch(deps);
    await waitForLockWaits(1);
    const open2 = processBatch(deps);
    await waitForLockWaits(2);
    // Sources 3 and 4 commit.
    expect(await processBatch(deps)).toMatchObject({ bundles: 1, added: 3 });
    expect(await processBatch(deps)).toMatchObject({ bundles: 1, added: 3 });

    const locks = watchLocks();
    const first = await harvestAsins(db(), server.config, { threadMinPoints: 0, chunkPoints: 2 });
    expect(first).toMatchObject({ points: 6, sightings: 6, newProducts: 6 });
    await waitForLockWaits(2); // both batches still open: the harvest did not wait for them
    // Source 2's batch commits, then the harvest; then source 1's, whose queue rows come first.
    await hold2.release();
    expect(await open2).toMatchObject({ bundles: 1, added: 3 });
    expect(await harvestAsins(db(), server.config)).toMatchObject({ points: 3, sightings: 3 });
    await hold1.release();
    expect(await open1).toMatchObject({ bundles: 1, added: 3 });
    expect(await harvestAsins(db(), server.config)).toMatchObject({ points: 3, sightings: 3 });
    expect(await locks.stop()).toEqual([]);

    expect(await harvestAsins(db(), server.config)).toMatchObject({ points: 0, sightings: 0 });
    expect(await queued()).toBe(0);
    const expected = sources.flatMap((_, s) => [0, 1, 2, 9].map((k) => ({ asin: asin(s + 1, k), points: 1 })));
    expect(await productPoints('B0OUT')).toEqual(expected.sort((a, b) => a.asin.localeCompare(b.asin)));
  });

  it('gives its queue rows back when it fails, and reads them at the next run', async () => {
    await createJson(server, JSON.stringify([0, 1, 2].map((k) => show('out-fail', `B0FAIL${k}AAA`, 1_000 + k))));
    await server.process();
    expect(await queued()).toBe(3);
    // A failure in the segment's last write, after its rows were claimed and its sightings written.
    await db().query('ALTER TABLE amazon_harvest_state ADD CONSTRAINT harvest_fails CHECK (points_scanned < 0) NOT VALID');
    try {
      await expect(harvestAsins(db(), server.config)).rejects.toThrow(/harvest_fails/);
    } finally {
      await db().query('ALTER TABLE amazon_harvest_state DROP CONSTRAINT harvest_fails');
    }
    expect(await queued()).toBe(3);
    expect(await productPoints('B0FAIL')).toEqual([]);
    expect(await harvestAsins(db(), server.config)).toMatchObject({ points: 3, sightings: 3 });
    expect(await productPoints('B0FAIL')).toEqual([0, 1, 2].map((k) => ({ asin: `B0FAIL${k}AAA`, points: 1 })));
  });

  it('counts a point queued twice (re-stored by dcs reprocess before the harvest read it) once', async () => {
    await createJson(server, JSON.stringify([show('out-again', 'B0AGAIN0AA', 2_000), show('out-again', 'B0AGAIN1AA', 2_001)]));
    await server.process();
    await queueReprocess(db(), { source: 'out-again' });
    await server.process();
    expect(await queued()).toBe(4);
    expect(await harvestAsins(db(), server.config)).toMatchObject({ points: 2, sightings: 2 }); // each read once
    expect(await productPoints('B0AGAIN')).toEqual([{ asin: 'B0AGAIN0AA', points: 1 }, { asin: 'B0AGAIN1AA', points: 1 }]);
  });
});
