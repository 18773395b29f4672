/**
 * `dcs reprocess`: rebuild data points from the raw bundles, for all bundles or those of one
 * source and/or a receipt-time range, or only the bundles some of whose points were taken for
 * duplicates (every point the former key dropped is in one of those: migration 0009). The chosen
 * bundles' points are deleted (source counters adjusted) and the bundles queued again; expansion
 * is idempotent, so a point also delivered by a bundle outside the selection is never
 * duplicated. The counters of the sources involved are recounted, so points deleted by hand and
 * rebuilt are not counted twice. Bundles that were undecodable at upload (errored with no
 * processing attempt) hold the raw request, not a payload, and are left alone.
 */
import { CHANNELS, notify } from '../db/channels.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';

export interface ReprocessFilter {
  source?: string;
  /** received_at >= since */
  since?: Date;
  /** received_at < until */
  until?: Date;
  /** Only bundles with points that were not added because they were found stored already. */
  duplicates?: boolean;
}

/**
 * The bundles a reprocess takes: $1 source (or NULL), $2 and $3 the receipt-time range (or NULL),
 * $4 only those with points found stored already.
 */
const CHOSEN_BUNDLES_SQL = `SELECT received_at, id FROM bundles
  WHERE NOT (status = 'errored' AND attempts = 0)
    AND ($1::text IS NULL OR sources @> ARRAY[$1::text] OR identifier = $1)
    AND ($2::timestamptz IS NULL OR received_at >= $2)
    AND ($3::timestamptz IS NULL OR received_at < $3)
    AND (NOT $4 OR point_count - points_rejected > points_added)`;

/**
 * Where the chosen bundles' points are: their sources and the range of their `created` ($1-$4 as
 * above). It reads the bundle index of every partition; the DELETE that follows then plans and
 * locks only the partitions of those sources and months (scale-out.md Q13).
 */
export const REPROCESS_SPANS_SQL = `SELECT coalesce(array_agg(DISTINCT source), '{}') AS sources, min(created)::text AS first, max(created)::text AS last
  FROM data_points WHERE bundle_id IN (SELECT id FROM (${CHOSEN_BUNDLES_SQL}) c)`;

/**
 * Deletes the chosen bundles' points and queues the bundles ($1-$4 as above; $5 the sources, $6
 * and $7 the first and last `created` of their points, from REPROCESS_SPANS_SQL).
 */
export const REPROCESS_SQL = `WITH chosen AS (${CHOSEN_BUNDLES_SQL} FOR UPDATE),
  removed AS (
    DELETE FROM data_points p USING chosen c
    WHERE p.bundle_id = c.id AND p.source = ANY ($5::text[]) AND p.created >= $6::timestamptz AND p.created <= $7::timestamptz
    RETURNING p.source, p.generator_id, p.user_agent, p.created
  ),
  -- Negative counts for the source-statistics job: the rebuilt points are counted again.
  uncounted AS (
    INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created)
    SELECT source, generator_id, user_agent, date_bin('10 minutes', created, timestamptz '2000-01-01 00:00:00+00'),
           -count(*), min(created), max(created)
    FROM removed GROUP BY 1, 2, 3, 4
  ),
  touched AS (
    SELECT source FROM removed
    UNION
    SELECT unnest(b.sources) FROM bundles b WHERE (b.received_at, b.id) IN (SELECT received_at, id FROM chosen)
  ),
  -- Every CTE sees the table as it was before the DELETE: actual is the real count then.
  tally AS (
    SELECT t.source, d.point_count AS counted, coalesce(r.n, 0) AS removed,
           (SELECT count(*) FROM data_points p WHERE p.source = t.source) AS actual
    FROM touched t
    JOIN data_sources d ON d.source = t.source
    LEFT JOIN (SELECT source, count(*) AS n FROM removed GROUP BY source) r ON r.source = t.source
  ),
  -- Recount, not just subtract: points deleted by hand are rebuilt by the reprocessing, so a
  -- counter that still included them would count them twice. The drift (counted - actual) is
  -- applied to the current value, which keeps increments committed by workers meanwhile.
  adjusted AS (
    UPDATE data_sources s SET point_count = greatest(0, s.point_count - (t.counted - t.actual) - t.removed)
    FROM tally t
    WHERE s.source = t.source
  )
  UPDATE bundles b SET status = 'pending', attempts = 0, error = NULL, processed_at = NULL,
    point_count = NULL, points_added = NULL, points_rejected = NULL, rejections = NULL
  FROM chosen c WHERE b.received_at = c.received_at AND b.id = c.id`;

/** Queues the selected bundles for processing again. Returns how many were queued. */
export async function queueReprocess(pool: Pool, filter: ReprocessFilter): Promise<number> {
  return withTransaction(pool, async (tx) => {
    const chosen = [filter.source ?? null, filter.since ?? null, filter.until ?? null, filter.duplicates ?? false];
    // Locked first, in a statement of their own: a batch processing one of them commits before
    // the lock is granted, so the spans read next (a later snapshot) include its points.
    await tx.query(`SELECT count(*) FROM (${CHOSEN_BUNDLES_SQL} FOR UPDATE) c`, chosen);
    // (the times as text: to the microsecond, which a Date would cut to the millisecond)
    const { rows } = await tx.query<{ sources: string[]; first: string | null; last: string | null }>(REPROCESS_SPANS_SQL, chosen);
    const { rowCount } = await tx.query(REPROCESS_SQL, [...chosen, rows[0].sources, rows[0].first, rows[0].last]);
    return rowCount ?? 0;
  });
}

/**
 * Queues chosen errored bundles for processing again (the system-health page's Reprocess), after
 * a fix for whatever made their processing fail. Only bundles that had a processing attempt are
 * taken: an errored bundle with no attempt was undecodable at upload and holds the raw request,
 * as in queueReprocess. Errored bundles have no points, so nothing is deleted or recounted; the
 * attempts start again from 0, so a retried bundle gets the full PROCESS_MAX_ATTEMPTS again.
 * Returns how many were queued.
 */
export async function queueReprocessBundles(pool: Pool, bundleIds: number[]): Promise<number> {
  if (bundleIds.length === 0) return 0;
  const { rowCount } = await pool.query(
    `UPDATE bundles SET status = 'pending', attempts = 0, error = NULL, processed_at = NULL
     WHERE id = ANY($1::bigint[]) AND status = 'errored' AND attempts > 0`,
    [bundleIds],
  );
  // Wakes workers that LISTEN at once, as uploads do; they also poll, so a lost NOTIFY only delays.
  if (rowCount) await notify(pool, CHANNELS.bundles).catch(() => undefined);
  return rowCount ?? 0;
}
