/**
 * The statements of the source-statistics job. Processing appends per-(source, data type, user
 * agent, 10-minute bucket) counts to source_point_deltas in the transaction that stores the
 * points, and a reprocess appends the same with negative counts for the points it deletes. The
 * job takes those rows out with DELETE ... RETURNING and adds them to the statistics tables in the
 * same statement, so each delta is counted exactly once and data_points is never scanned.
 *
 * Only this job writes source_daily_points, source_recent_points and user_agent_sources, and it
 * runs under its job lock: the statements read the current rows and write the new values with no
 * race, which lets them clamp at zero on the final value rather than on a partial sum.
 */

// The origin processing uses for its 10-minute buckets (date_bin's default would be the same
// instant; stated so both ends agree).
import { dayCounted, excludedDays, RULES_VERSION } from '../data-quality/exclusion-sql.ts';

const BUCKET = `'10 minutes', %s, timestamptz '2000-01-01 00:00:00+00'`;
const bin = (expression: string) => `date_bin(${BUCKET.replace('%s', expression)})`;

/** Recent buckets (source_recent_points) kept: the last 3 days. */
export const RECENT_DAYS = 3;
const RECENT_CUTOFF = bin(`now() - interval '${RECENT_DAYS} days'`);

/**
 * Which delta rows one batch takes. Positive rows commute with each other, so they go first in
 * any order. A negative row is only taken together with every positive row still waiting: the
 * points it removes were stored (and their positive row committed) before it, so that positive
 * row is either already folded or in the same batch, and a count never drops to the clamp at
 * zero only to be raised again later.
 */
const TAKE_POSITIVE = `ctid = ANY (ARRAY(SELECT ctid FROM source_point_deltas WHERE points > 0 LIMIT $1))`;
const TAKE_REMOVALS = `ctid = ANY (ARRAY(SELECT ctid FROM source_point_deltas WHERE points <= 0 LIMIT $1)
                                   || ARRAY(SELECT ctid FROM source_point_deltas WHERE points > 0))`;

/*
 * $1 int   batch size (delta rows)
 * $2 text  TIME_ZONE
 *
 * The day of a row is the date of its bucket in TIME_ZONE: the same as the date of its points'
 * `created` wherever the zone's UTC offset is a multiple of 10 minutes (all but a handful of
 * zones, such as Asia/Kathmandu, where points in the last minutes before midnight may be counted
 * on the next day).
 */
function foldSql(take: string): string {
  return `
WITH taken AS (
  DELETE FROM source_point_deltas WHERE ${take}
  RETURNING source, generator_id, user_agent, bucket, points, first_created, last_created, received_at, recorded
),
daily_in AS (
  SELECT source, generator_id, (bucket AT TIME ZONE $2)::date AS day, sum(points) AS points,
         min(first_created) AS first_created, max(last_created) AS last_created,
         -- a removal's recorded is the reprocess time, not when its points were stored
         coalesce(max(recorded) FILTER (WHERE points > 0), max(recorded)) AS last_recorded
  FROM taken GROUP BY 1, 2, 3
),
daily AS (
  INSERT INTO source_daily_points AS d (source, generator_id, day, points, first_created, last_created, last_recorded)
  SELECT i.source, i.generator_id, i.day, greatest(0, coalesce(e.points, 0) + i.points),
         least(e.first_created, i.first_created), greatest(e.last_created, i.last_created),
         greatest(e.last_recorded, i.last_recorded)
  FROM daily_in i
  LEFT JOIN source_daily_points e ON e.source = i.source AND e.generator_id = i.generator_id AND e.day = i.day
  ON CONFLICT (source, generator_id, day) DO UPDATE SET
    points = excluded.points, first_created = excluded.first_created,
    last_created = excluded.last_created, last_recorded = excluded.last_recorded
),
recent_in AS (
  SELECT source, 'c'::char(1) AS kind, bucket, sum(points) AS points
  FROM taken WHERE bucket >= ${RECENT_CUTOFF} GROUP BY source, bucket
  UNION ALL
  -- By time stored. A removal does not say when its points were stored, so it is not subtracted
  -- here: these buckets count what arrived when, and reprocessed points arrive again.
  SELECT source, 'r'::char(1), ${bin('recorded')}, sum(points)
  FROM taken WHERE points > 0 AND recorded >= ${RECENT_CUTOFF} GROUP BY source, 3
),
recent AS (
  INSERT INTO source_recent_points AS r (source, kind, bucket, points)
  SELECT i.source, i.kind, i.bucket, greatest(0, coalesce(e.points, 0) + i.points)
  FROM recent_in i
  LEFT JOIN source_recent_points e ON e.source = i.source AND e.kind = i.kind AND e.bucket = i.bucket
  ON CONFLICT (source, kind, bucket) DO UPDATE SET points = excluded.points
),
agents_in AS (
  SELECT user_agent, source, sum(points) AS points, min(first_created) AS first_seen, max(last_created) AS last_seen
  FROM taken WHERE user_agent <> '' GROUP BY 1, 2
),
agents AS (
  INSERT INTO user_agent_sources AS u (user_agent, source, points, first_seen, last_seen)
  SELECT i.user_agent, i.source, greatest(0, coalesce(e.points, 0) + i.points),
         least(e.first_seen, i.first_seen), greatest(e.last_seen, i.last_seen)
  FROM agents_in i
  LEFT JOIN user_agent_sources e ON e.user_agent = i.user_agent AND e.source = i.source
  ON CONFLICT (user_agent, source) DO UPDATE SET
    points = excluded.points, first_seen = excluded.first_seen, last_seen = excluded.last_seen
),
uploads AS (
  SELECT source, max(received_at) AS received_at FROM taken WHERE received_at IS NOT NULL GROUP BY source
),
-- Rows locked in source order, the order processing upserts them in: no deadlock with it.
locked AS (
  SELECT s.source FROM data_sources s JOIN uploads u ON u.source = s.source ORDER BY s.source FOR UPDATE OF s
),
uploaded AS (
  UPDATE data_sources s SET last_upload_at = greatest(s.last_upload_at, u.received_at)
  FROM uploads u JOIN locked l ON l.source = u.source
  WHERE s.source = u.source AND s.last_upload_at IS DISTINCT FROM greatest(s.last_upload_at, u.received_at)
)
SELECT
  (SELECT count(*) FROM taken) AS deltas,
  (SELECT count(*) FROM taken WHERE points <= 0) AS removals,
  (SELECT coalesce(sum(points), 0) FROM taken) AS points,
  (SELECT coalesce(array_agg(DISTINCT source), '{}') FROM taken) AS sources`;
}

/** Folds up to $1 positive delta rows. */
export const FOLD_POSITIVE_SQL = foldSql(TAKE_POSITIVE);

/** Folds up to $1 removal rows, with every positive row still waiting. */
export const FOLD_REMOVALS_SQL = foldSql(TAKE_REMOVALS);

/** Drops recent buckets older than the last RECENT_DAYS days. */
export const PRUNE_RECENT_SQL = `DELETE FROM source_recent_points WHERE bucket < ${RECENT_CUTOFF}`;

/**
 * Recomputes the statistics columns of data_sources from source_daily_points, for the sources in
 * $1, every source whose statistics are not of today (so the window and the 14-day strip move
 * on at midnight for silent sources too, and sources added by hand get zeros) and every source
 * whose statistics were computed under other exclusion rules (a rule was made, edited, disabled
 * or enabled). The days the rules exclude are left out (excludedDays, docs/data-quality.md).
 *
 * $1 text[]  sources touched by the fold
 * $2 text    TIME_ZONE
 * $3 int     METADATA_WINDOW_DAYS: the window is that many days ending today (and any later day,
 *            for clients whose clocks run ahead), as the original's "created in the last N days"
 */
export const RECOMPUTE_SOURCES_SQL = `
WITH today AS (SELECT (now() AT TIME ZONE $2)::date AS day),
target AS (
  SELECT s.source FROM data_sources s CROSS JOIN today t
  WHERE s.source = ANY ($1::text[]) OR s.stats_day IS DISTINCT FROM t.day OR s.stats_rules IS DISTINCT FROM ${RULES_VERSION}
  ORDER BY s.source FOR UPDATE OF s
),
excluded AS MATERIALIZED (${excludedDays('$2', 'target')}
),
win AS (
  SELECT d.source, sum(d.points) AS points, min(d.first_created) AS first_created, max(d.last_created) AS last_created
  FROM source_daily_points d JOIN target g ON g.source = d.source CROSS JOIN today t
  WHERE d.day > t.day - $3::int AND d.points > 0 AND ${dayCounted('d', 'excluded')}
  GROUP BY d.source
),
per_day AS (
  SELECT d.source, d.day, sum(d.points) AS points
  FROM source_daily_points d JOIN target g ON g.source = d.source CROSS JOIN today t
  WHERE d.day BETWEEN t.day - 13 AND t.day AND ${dayCounted('d', 'excluded')}
  GROUP BY d.source, d.day
),
strip AS (
  SELECT g.source, array_agg(coalesce(p.points, 0)::int ORDER BY i DESC) AS daily
  FROM target g CROSS JOIN today t CROSS JOIN generate_series(0, 13) AS i
  LEFT JOIN per_day p ON p.source = g.source AND p.day = t.day - i
  GROUP BY g.source
)
UPDATE data_sources s SET
  window_points = coalesce(w.points, 0),
  window_first_created = w.first_created,
  window_last_created = w.last_created,
  frequency_hz = CASE WHEN w.points >= 2 AND w.last_created > w.first_created
                      THEN (w.points / extract(epoch FROM w.last_created - w.first_created))::float8 END,
  daily_points = st.daily,
  stats_day = t.day,
  stats_rules = ${RULES_VERSION},
  stats_updated_at = now()
FROM strip st
CROSS JOIN today t
LEFT JOIN win w ON w.source = st.source
WHERE s.source = st.source`;

/**
 * After the recompute has rewritten many data_sources rows: their pages are no longer marked
 * all-visible, and until autovacuum comes by (a minute or more) every count of the home page's
 * sources goes from its index to the table, once per row version (12,000 reads at 10,000
 * sources, 5-17 ms a count instead of 1). The table is small; vacuuming it now takes tens of ms.
 * SKIP_LOCKED: when autovacuum is already at it, that is as good.
 */
export const VACUUM_SOURCES_SQL = 'VACUUM (SKIP_LOCKED) data_sources';
