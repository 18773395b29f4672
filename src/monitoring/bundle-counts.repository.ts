/**
 * The bundle counters (migrations 0031, 0036): how many bundles are stored, pending and errored, and
 * how many points processing rejected, read
 * from `bundle_counts` instead of count(*) over bundles, which a multi-year study's billions of
 * rows make too slow for every /metrics scrape (scale-out.md Q17). Triggers on bundles append
 * each statement's change, so the sums stay exact; folding keeps the table a few rows long.
 */
import type { Pool } from '../db/database.ts';

export interface BundleCounts {
  received: number;
  pending: number;
  errored: number;
  /** points rejected in processing, over every bundle */
  points_rejected: number;
}

/** The counts now (the sums of bundle_counts' rows), in the SQL form other statements embed. */
export const BUNDLE_COUNTS_SQL = `
  SELECT coalesce(sum(received), 0)::bigint AS received, coalesce(sum(pending), 0)::bigint AS pending,
         coalesce(sum(errored), 0)::bigint AS errored, coalesce(sum(points_rejected), 0)::bigint AS points_rejected
  FROM bundle_counts`;

export async function readBundleCounts(pool: Pool): Promise<BundleCounts> {
  const { rows } = await pool.query<BundleCounts>(BUNDLE_COUNTS_SQL);
  return rows[0];
}

/**
 * Replaces the rows this statement sees by one row holding their sum; returns how many it folded.
 * A row committed meanwhile is not seen and is folded next time, and two folds at once each fold
 * only rows the other did not (a row deleted by one is skipped by the other), so the sums never
 * change: no lock, safe from any process.
 */
export async function foldBundleCounts(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ folded: number }>(`
    WITH folded AS (DELETE FROM bundle_counts RETURNING received, pending, errored, points_rejected),
    total AS (
      INSERT INTO bundle_counts (received, pending, errored, points_rejected)
      SELECT sum(received), sum(pending), sum(errored), sum(points_rejected) FROM folded HAVING count(*) > 0
    )
    SELECT count(*)::int AS folded FROM folded`);
  return rows[0].folded;
}
