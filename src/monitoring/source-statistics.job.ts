/**
 * source-statistics (every 5 minutes): folds the point deltas that processing and reprocessing
 * append into the per-day, recent-bucket and user-agent tables, then recomputes the statistics
 * columns of data_sources (window, frequency, 14-day strip), and folds the bundle counters. See
 * statistics.sql.ts and docs/monitoring.md.
 */
import type { Pool } from '../db/database.ts';
import type { JobDefinition } from '../job-contract.ts';
import { foldBundleCounts } from './bundle-counts.repository.ts';
import { FOLD_POSITIVE_SQL, FOLD_REMOVALS_SQL, PRUNE_RECENT_SQL, RECOMPUTE_SOURCES_SQL, VACUUM_SOURCES_SQL } from './statistics.sql.ts';

/** Delta rows per fold transaction: bounds the memory and the size of one transaction. */
export const FOLD_BATCH_ROWS = 500_000;

export interface FoldResult {
  deltas: number;
  removals: number;
  points: number;
  batches: number;
  sources: Set<string>;
}

async function foldBatch(pool: Pool, sql: string, batchRows: number, timeZone: string) {
  const { rows } = await pool.query(sql, [batchRows, timeZone]);
  const row = rows[0];
  return { deltas: Number(row.deltas), removals: Number(row.removals), points: Number(row.points), sources: row.sources as string[] };
}

/** Folds every waiting delta (positive rows first, then removals), one bounded batch per statement. */
export async function foldPointDeltas(pool: Pool, timeZone: string, batchRows = FOLD_BATCH_ROWS): Promise<FoldResult> {
  const result: FoldResult = { deltas: 0, removals: 0, points: 0, batches: 0, sources: new Set() };
  const add = (batch: Awaited<ReturnType<typeof foldBatch>>) => {
    result.deltas += batch.deltas;
    result.removals += batch.removals;
    result.points += batch.points;
    if (batch.deltas > 0) result.batches += 1;
    for (const source of batch.sources) result.sources.add(source);
  };
  // Each statement is its own transaction: a crash loses nothing (the rows it took come back).
  for (;;) {
    const batch = await foldBatch(pool, FOLD_POSITIVE_SQL, batchRows, timeZone);
    add(batch);
    if (batch.deltas < batchRows) break;
  }
  for (;;) {
    const batch = await foldBatch(pool, FOLD_REMOVALS_SQL, batchRows, timeZone);
    add(batch);
    if (batch.removals < batchRows) break;
  }
  return result;
}

/**
 * Recomputes data_sources' statistics columns for `sources` and for every source not yet done
 * today, and vacuums the table when it rewrote any (VACUUM_SOURCES_SQL). Returns how many.
 */
export async function updateSourceStatistics(pool: Pool, sources: Iterable<string>, timeZone: string, windowDays: number): Promise<number> {
  const { rowCount } = await pool.query(RECOMPUTE_SOURCES_SQL, [[...sources], timeZone, windowDays]);
  if (rowCount) await pool.query(VACUUM_SOURCES_SQL);
  return rowCount ?? 0;
}

/** Deletes recent buckets older than 3 days. Returns how many. */
export async function pruneRecentBuckets(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(PRUNE_RECENT_SQL);
  return rowCount ?? 0;
}

export const sourceStatisticsJob: JobDefinition = {
  name: 'source-statistics',
  description: 'Folds new points into the per-source statistics (days, recent buckets, user agents, window, frequency).',
  schedule: { everyMinutes: 5 },
  async run({ pool, config }) {
    const folded = await foldPointDeltas(pool, config.timeZone);
    const sources = await updateSourceStatistics(pool, folded.sources, config.timeZone, config.metadataWindowDays);
    const prunedBuckets = await pruneRecentBuckets(pool);
    // The bundle counters' rows too (bundle-counts.repository.ts): what a /metrics scrape sums
    // stays about one narrow row per upload of the last 5 minutes.
    const bundleCountsFolded = await foldBundleCounts(pool);
    return { deltas: folded.deltas, removals: folded.removals, points: folded.points, batches: folded.batches, sources, prunedBuckets, bundleCountsFolded };
  },
};
