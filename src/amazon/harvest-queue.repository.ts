/**
 * The ASIN harvest's outbox (`harvest_queue`, migration 0029) and its totals
 * (`amazon_harvest_state`): processing appends the points to read (src/processing/store-points.ts),
 * the harvest takes them here.
 */
import type { Pool, PoolClient } from '../db/database.ts';

/**
 * Deletes up to `limit` queue rows after the id `after` (in the caller's transaction, which
 * records what was found in their points: rolled back, they are read again by the next run) and
 * returns their ids, in order. Rows another harvest has claimed are skipped, not waited for.
 */
export async function claimQueued(client: PoolClient, after: number, limit: number): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(
    `DELETE FROM harvest_queue WHERE id IN (SELECT id FROM harvest_queue WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [after, limit],
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

export async function addHarvestTotals(client: PoolClient, points: number, rejected: number): Promise<void> {
  await client.query(
    'UPDATE amazon_harvest_state SET points_scanned = points_scanned + $1, rejected = rejected + $2, updated_at = now()',
    [points, rejected],
  );
}

export interface HarvestProgress {
  /** points stored and not read by the harvest yet */
  queued: number;
  pointsScanned: number;
  rejected: number;
  updatedAt: Date | null;
}

export async function harvestProgress(pool: Pool): Promise<HarvestProgress> {
  const { rows } = await pool.query(
    'SELECT (SELECT count(*) FROM harvest_queue)::int8 AS queued, points_scanned, rejected, updated_at FROM amazon_harvest_state',
  );
  return { queued: Number(rows[0].queued), pointsScanned: Number(rows[0].points_scanned), rejected: Number(rows[0].rejected), updatedAt: rows[0].updated_at };
}
