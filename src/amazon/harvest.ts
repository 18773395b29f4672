/**
 * The ASIN harvest (webmunk-server.md §4.1, rebuilt): reads the points processing queued for it
 * (its outbox, `harvest_queue`: every stored point of the types it reads, appended in the
 * transaction that stored the point), finds the ASINs in their orders, links and markup
 * (extract-asins.ts), and counts every (product, point) pair once, so re-runs and `dcs reprocess`
 * change nothing. No lock on data_points and no id order: a point is in the queue exactly when it
 * is stored, whatever order processing transactions commit in.
 */
import os from 'node:os';
import type { Config } from '../config.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { pointDigestsReady } from '../db/point-digests.ts';
import { addHarvestTotals, claimQueued } from './harvest-queue.repository.ts';
import { recordHarvestedPoints, refreshProducts, writeSightings } from './products.repository.ts';
import { scanQueued, type Scanned } from './scan-queued.ts';
import { startScanThread } from './scan-thread.ts';
import { SightingTotals } from './sighting-totals.ts';

/** Queued points scanned per COPY. */
const CHUNK_POINTS = 5_000;

/**
 * Queued points per transaction: the queue rows are deleted, and the sightings of all its chunks,
 * the products they touched (each written once, however many chunks saw it) and the totals
 * written, in one transaction. Products were first upserted per chunk: 1.2 million product writes
 * for 480,000 products, the harvest's largest cost in PostgreSQL. A crash rolls back at most this
 * many points' work; their queue rows come back and are read by the next run.
 */
const SEGMENT_POINTS = 250_000;

/** Summed sightings held before they are written (memory: ~100 bytes each); the rest at the commit. */
const SIGHTINGS_HELD = 200_000;

/** A scan thread only for runs of more points than this. */
const THREAD_MIN_POINTS = 4 * CHUNK_POINTS;

export interface HarvestResult {
  points: number;
  sightings: number;
  newProducts: number;
  rejected: number;
}

type Scanner = (queueIds: number[]) => Promise<Scanned>;

/**
 * The harvest's scanners: this thread, plus a scan thread when the machine has a core to spare
 * and there are chunks enough to pay for starting it (~0.3 s). Chunks go to them in turn.
 */
function scanners(pool: Pool, config: Pick<Config, 'serverSecretKey'>, points: number, threadMinPoints: number): { scan: Scanner[]; stop(): Promise<void> } {
  const local: Scanner = (queueIds) => scanQueued(pool, config, queueIds);
  const url = (pool as Pool & { options: { connectionString?: string } }).options.connectionString;
  if (os.availableParallelism() < 2 || points < threadMinPoints || !url) return { scan: [local], stop: async () => undefined };
  const thread = startScanThread(url, config.serverSecretKey);
  return { scan: [(queueIds) => thread.scan(queueIds), local], stop: () => thread.stop() };
}

export async function harvestAsins(
  pool: Pool,
  config: Pick<Config, 'serverSecretKey'>,
  options: { /** a scan thread from this many queued points (tests: 0) */ threadMinPoints?: number; /** points per chunk (tests: 1) */ chunkPoints?: number } = {},
): Promise<HarvestResult> {
  const total: HarvestResult = { points: 0, sightings: 0, newProducts: 0, rejected: 0 };
  // Points are counted once by their digest: until stored points have theirs (migration 0009,
  // done by the processing worker), nothing is harvested.
  if (!(await pointDigestsReady(pool))) return total;
  let scan: ReturnType<typeof scanners> | undefined;
  // Rows queued by transactions that commit during the run with smaller ids than this are left
  // for the next run: each segment claims after the last, never the same rows twice.
  let after = 0;
  try {
    for (;;) {
      const segment = await beginSegment(pool);
      let queueIds: number[];
      try {
        queueIds = await claimQueued(segment.client, after, SEGMENT_POINTS);
        if (queueIds.length > 0) {
          after = queueIds.at(-1)!;
          scan ??= scanners(pool, config, queueIds.length, options.threadMinPoints ?? THREAD_MIN_POINTS);
          await scanSegment(segment, queueIds, scan.scan, options.chunkPoints ?? CHUNK_POINTS);
        }
      } catch (error) {
        await abandonSegment(segment);
        throw error;
      }
      total.newProducts += await commitSegment(segment);
      total.points += segment.points;
      total.rejected += segment.rejected;
      total.sightings += segment.sightings;
      if (queueIds.length === 0) break;
    }
  } finally {
    await scan?.stop();
  }
  return total;
}

/**
 * One transaction of the harvest: its queue rows claimed, their chunks' points recorded as
 * harvested, the sightings summed over the whole segment (a product is seen again and again),
 * then the products they touched.
 */
interface Segment {
  client: PoolClient;
  points: number;
  rejected: number;
  sightings: number;
  totals: SightingTotals;
  touched: Set<string>;
}

async function beginSegment(pool: Pool): Promise<Segment> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
  } catch (error) {
    client.release(true);
    throw error;
  }
  return { client, points: 0, rejected: 0, sightings: 0, totals: new SightingTotals(), touched: new Set() };
}

/**
 * Scans the segment's points in chunks, up to one chunk per scanner at a time, and records each
 * chunk's sightings on the segment's transaction in order while the next chunks are scanned
 * (PostgreSQL and this process each have a core).
 */
async function scanSegment(segment: Segment, queueIds: number[], scan: Scanner[], chunkPoints: number): Promise<void> {
  const chunks: number[][] = [];
  for (let i = 0; i < queueIds.length; i += chunkPoints) chunks.push(queueIds.slice(i, i + chunkPoints));
  const inFlight: Promise<Scanned>[] = [];
  let next = 0;
  const launch = () => {
    const scanned = scan[next % scan.length](chunks[next++]);
    scanned.catch(() => undefined); // awaited in order below
    inFlight.push(scanned);
  };
  try {
    while (inFlight.length < scan.length && next < chunks.length) launch();
    while (inFlight.length > 0) {
      const scanned = await inFlight.shift()!;
      if (next < chunks.length) launch();
      await recordChunk(segment, scanned);
    }
  } catch (error) {
    await Promise.all(inFlight.map((f) => f.catch(() => undefined)));
    throw error;
  }
}

async function recordChunk(segment: Segment, scanned: Scanned): Promise<void> {
  for (const point of await recordHarvestedPoints(segment.client, scanned.found)) segment.sightings += segment.totals.add(point);
  segment.points += scanned.points;
  segment.rejected += scanned.rejected;
  if (segment.totals.size >= SIGHTINGS_HELD) await writeHeldSightings(segment);
}

async function writeHeldSightings(segment: Segment): Promise<void> {
  const groups = segment.totals.take();
  for (const group of groups) segment.touched.add(group.asin);
  await writeSightings(segment.client, groups);
}

/** Writes the touched products and the totals, commits. Returns the products seen for the first time. */
async function commitSegment(segment: Segment): Promise<number> {
  const { client } = segment;
  try {
    await writeHeldSightings(segment);
    const newProducts = await refreshProducts(client, segment.touched);
    if (segment.points > 0 || segment.rejected > 0) await addHarvestTotals(client, segment.points, segment.rejected);
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
