/**
 * `dcs reprocess`: rebuild data points from the raw bundles, for all bundles or those of one
 * source and/or a receipt-time range. The chosen bundles' points are deleted (source counters
 * adjusted) and the bundles queued again; expansion is idempotent, so a point also delivered by a
 * bundle outside the selection is never duplicated. Bundles that were undecodable at upload
 * (errored with no processing attempt) hold the raw request, not a payload, and are left alone.
 */
import type { Pool } from '../db/database.ts';

export interface ReprocessFilter {
  source?: string;
  /** received_at >= since */
  since?: Date;
  /** received_at < until */
  until?: Date;
}

/** Queues the selected bundles for processing again. Returns how many were queued. */
export async function queueReprocess(pool: Pool, filter: ReprocessFilter): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rowCount } = await client.query(
      `WITH chosen AS (
         SELECT id FROM bundles
         WHERE NOT (status = 'errored' AND attempts = 0)
           AND ($1::text IS NULL OR sources @> ARRAY[$1::text] OR identifier = $1)
           AND ($2::timestamptz IS NULL OR received_at >= $2)
           AND ($3::timestamptz IS NULL OR received_at < $3)
         FOR UPDATE
       ),
       removed AS (
         DELETE FROM data_points p USING chosen c WHERE p.bundle_id = c.id RETURNING p.source
       ),
       adjusted AS (
         UPDATE data_sources s SET point_count = greatest(0, s.point_count - r.n)
         FROM (SELECT source, count(*) AS n FROM removed GROUP BY source) r
         WHERE s.source = r.source
       )
       UPDATE bundles b SET status = 'pending', attempts = 0, error = NULL, processed_at = NULL,
         point_count = NULL, points_added = NULL, points_rejected = NULL, rejections = NULL
       FROM chosen c WHERE b.id = c.id`,
      [filter.source ?? null, filter.since ?? null, filter.until ?? null],
    );
    await client.query('COMMIT');
    return rowCount ?? 0;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
