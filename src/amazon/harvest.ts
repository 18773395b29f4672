/**
 * The ASIN harvest (webmunk-server.md §4.1, rebuilt): scans new data points in id order from
 * the stored position, finds the ASINs in their orders, links and markup (extract-asins.ts), and
 * counts every (product, point) pair once, so re-runs and `dcs reprocess` change nothing.
 */
import os from 'node:os';
import type { Config } from '../config.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import { pointDigestsReady } from '../db/point-digests.ts';
import { recordSightings, refreshProducts } from './products.repository.ts';
import { scanRange, type Scanned } from './scan-range.ts';
import { startScanThread } from './scan-thread.ts';

/** Ids scanned per COPY. */
const CHUNK_IDS = 5_000;

/**
 * Ids per transaction: the sightings of all its chunks, the products they touched (each written
 * once, however many chunks saw it) and the position after it commit together. Products were
 * first upserted per chunk: 1.2 million product writes for 480,000 products, the harvest's
 * largest cost in PostgreSQL. A crash rolls back at most this many ids' work, scanned again next run.
 */
const SEGMENT_IDS = 250_000;

/** A scan thread only for runs of more ids than this. */
const THREAD_MIN_IDS = 4 * CHUNK_IDS;

export interface HarvestResult {
  points: number;
  sightings: number;
  newProducts: number;
  rejected: number;
}

/**
 * The highest id below which no transaction can still add a point: the SHARE lock waits for the
 * writers in progress (processing batches, a few hundred ms) and holds new ones back a moment.
 */
async function committedMaxId(pool: Pool): Promise<number> {
  return withTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    await client.query('LOCK TABLE data_points IN SHARE MODE');
    const { rows } = await client.query('SELECT coalesce(max(id), 0) AS max FROM data_points');
    return Number(rows[0].max);
  });
}

/**
 * The harvest's scanners: this thread, plus a scan thread when the machine has a core to spare
 * and there are chunks enough to pay for starting it (~0.3 s). Chunks go to them in turn.
 */
function scanners(pool: Pool, config: Pick<Config, 'serverSecretKey'>, ids: number, threadMinIds: number): { scan: Array<(after: number, upTo: number) => Promise<Scanned>>; stop(): Promise<void> } {
  const local = (after: number, upTo: number) => scanRange(pool, config, after, upTo);
  const url = (pool as Pool & { options: { connectionString?: string } }).options.connectionString;
  if (os.availableParallelism() < 2 || ids < threadMinIds || !url) return { scan: [local], stop: async () => undefined };
  const thread = startScanThread(url, config.serverSecretKey);
  return { scan: [(after, upTo) => thread.scan(after, upTo), local], stop: () => thread.stop() };
}

export async function harvestAsins(
  pool: Pool,
  config: Pick<Config, 'serverSecretKey'>,
  options: { /** a scan thread from this many ids to scan (tests: 0) */ threadMinIds?: number } = {},
): Promise<HarvestResult> {
  const total: HarvestResult = { points: 0, sightings: 0, newProducts: 0, rejected: 0 };
  // Points are counted once by their digest: until stored points have theirs (migration 0009,
  // done by the processing worker), nothing is harvested.
  if (!(await pointDigestsReady(pool))) return total;
  const { rows } = await pool.query('SELECT last_point_id FROM amazon_harvest_state');
  const position = Number(rows[0].last_point_id);
  const end = await committedMaxId(pool);
  // A chunk's write overlaps the next chunk's scan (PostgreSQL and this process each have a
  // core); writes stay in order, on the segment's transaction.
  let segment: Segment | undefined;
  let writing: Promise<void> = Promise.resolve();
  const { scan, stop } = scanners(pool, config, end - position, options.threadMinIds ?? THREAD_MIN_IDS);
  // Up to one chunk per scanner in flight, taken in id order.
  const inFlight: Array<{ from: number; upTo: number; scanned: Promise<Scanned> }> = [];
  let next = position;
  let turn = 0;
  const launch = () => {
    const upTo = Math.min(end, next + CHUNK_IDS);
    const scanned = scan[turn++ % scan.length](next, upTo);
    scanned.catch(() => undefined); // awaited in order below
    inFlight.push({ from: next, upTo, scanned });
    next = upTo;
  };
  try {
    while (inFlight.length < scan.length && next < end) launch();
    while (inFlight.length > 0) {
      const { from, upTo, scanned: scanning } = inFlight.shift()!;
      const scanned = await scanning;
      if (next < end) launch();
      total.points += scanned.points;
      total.rejected += scanned.rejected;
      await writing;
      writing = (async () => {
        segment ??= await beginSegment(pool, from);
        await recordChunk(segment, scanned, upTo);
        if (upTo - segment.from >= SEGMENT_IDS || upTo === end) {
          const done = segment;
          segment = undefined;
          const newProducts = await commitSegment(done);
          total.sightings += done.sightings;
          total.newProducts += newProducts;
        }
      })();
      writing.catch(() => undefined); // awaited below or in the next round
    }
    await writing;
  } catch (error) {
    await writing.catch(() => undefined);
    await Promise.all(inFlight.map((f) => f.scanned.catch(() => undefined)));
    if (segment) await abandonSegment(segment);
    throw error;
  } finally {
    await stop();
  }
  return total;
}

/** One transaction of the harvest: chunks of sightings, then the products they touched and the new position. */
interface Segment {
  client: PoolClient;
  from: number;
  upTo: number;
  points: number;
  rejected: number;
  sightings: number;
  touched: Set<string>;
}

async function beginSegment(pool: Pool, from: number): Promise<Segment> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
  } catch (error) {
    client.release(true);
    throw error;
  }
  return { client, from, upTo: from, points: 0, rejected: 0, sightings: 0, touched: new Set() };
}

async function recordChunk(segment: Segment, scanned: Scanned, upTo: number): Promise<void> {
  const recorded = await recordSightings(segment.client, scanned.found);
  for (const asin of recorded.touched) segment.touched.add(asin);
  segment.sightings += recorded.sightings;
  segment.points += scanned.points;
  segment.rejected += scanned.rejected;
  segment.upTo = upTo;
}

/** Writes the touched products and the position, commits. Returns the products seen for the first time. */
async function commitSegment(segment: Segment): Promise<number> {
  const { client } = segment;
  try {
    const newProducts = await refreshProducts(client, segment.touched);
    await client.query(
      `UPDATE amazon_harvest_state SET last_point_id = $1, points_scanned = points_scanned + $2, rejected = rejected + $3, updated_at = now()`,
      [segment.upTo, segment.points, segment.rejected],
    );
    await client.query('COMMIT');
    client.release();
    return newProducts;
  } catch (error) {
    await abandonSegment(segment);
    throw error;
  }
}

async function abandonSegment(segment: Segment): Promise<void> {
  await segment.client.query('ROLLBACK').catch(() => undefined);
  segment.client.release(true);
}
