/**
 * After a batch's new points are copied into data_points: one statement that counts them for
 * their sources (data_sources), appends the per-source counts that the source-statistics job
 * folds into the dashboard's statistics (source_point_deltas), and marks the bundles processed.
 * Store-points.ts has already aggregated everything in Node; these are a few rows per batch.
 *
 * Parameters:
 *   $1  text[]         per source with new points: source
 *   $2  int8[]         ... latest `created` among them (microseconds since 2000, micros.ts)
 *   $3  text[]         ... user agent of that latest point
 *   $4  int8[]         ... number of new points
 *   $5  text[]         per (source, generator id, user agent, 10-minute bucket): source
 *   $6  text[]         ... generator id
 *   $7  text[]         ... user agent
 *   $8  int8[]         ... number of new points
 *   $9  int8[]         ... first `created` (microseconds)
 *   $10 int8[]         ... last `created` (microseconds)
 *   $11 int8[]         ... latest receipt time of their bundles (microseconds)
 *   $12 bigint[]       per bundle: id
 *   $13 int[]          ... number of elements
 *   $14 int[]          ... points it added
 *   $15 int[]          ... number rejected
 *   $16 text[]         ... rejections as a JSON object, or NULL
 *   $17 text[]         ... distinct accepted sources as a JSON array, or NULL if none
 *   $18 int8[]         per source with new points (as $1): latest `recorded` among them (microseconds;
 *                      the processing time, or a restored or imported bundle's points_recorded_at)
 *   $19 timestamptz[]  per bundle (as $12): its received_at (exact text, micros.ts): bundles is
 *                      partitioned by it (migration 0034), so the update reads only the partitions
 *                      of the batch's bundles, whichever join PostgreSQL picks
 * Returns one row per bundle.
 */
import { timestampFromMicros as t } from './micros.ts';

export const RECORD_BATCH_SQL = `
WITH registered AS (
  INSERT INTO data_sources AS s (source, first_seen, latest_point_created, latest_point_recorded, latest_user_agent, point_count)
  SELECT source, now(), ${t('latest')}, ${t('recorded')}, user_agent, n
  FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[], $18::int8[]) AS u (source, latest, user_agent, n, recorded)
  ORDER BY source
  ON CONFLICT (source) DO UPDATE SET
    latest_point_created = greatest(s.latest_point_created, excluded.latest_point_created),
    -- greatest: loops commit out of order, and the PDK API takes this as the newest \`recorded\`
    -- of the source's points (src/api/points.repository.ts)
    latest_point_recorded = greatest(s.latest_point_recorded, excluded.latest_point_recorded),
    latest_user_agent = CASE WHEN excluded.latest_point_created >= s.latest_point_created OR s.latest_point_created IS NULL
                             THEN excluded.latest_user_agent ELSE s.latest_user_agent END,
    point_count = s.point_count + excluded.point_count
),
-- For the source-statistics job (monitoring): append-only, so loops never wait on each other.
-- Node groups by bucket already; date_bin of the group's first point names that bucket.
counted AS (
  INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created, received_at)
  SELECT source, generator_id, user_agent, date_bin('10 minutes', ${t('first_created')}, timestamptz '2000-01-01 00:00:00+00'),
    n, ${t('first_created')}, ${t('last_created')}, ${t('received_at')}
  FROM unnest($5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
    AS u (source, generator_id, user_agent, n, first_created, last_created, received_at)
)
UPDATE bundles t SET
  status = 'processed', processed_at = now(), error = NULL,
  point_count = u.total, points_added = u.added, points_rejected = u.rejected,
  rejections = u.rejections::jsonb,
  sources = CASE WHEN u.sources IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(u.sources::jsonb)) END
FROM unnest($12::bigint[], $13::int[], $14::int[], $15::int[], $16::text[], $17::text[], $19::timestamptz[])
  AS u (id, total, added, rejected, rejections, sources, received_at)
WHERE t.received_at = ANY ($19::timestamptz[]) AND t.received_at = u.received_at AND t.id = u.id
RETURNING t.id
`;
