/**
 * The data-quality job's reads of what is new: the points of an id range (through the BRIN index
 * on data_points.id, migration 0006) and the bundles processed since the cursor (migration 0025's
 * index). Each returns little: aggregates per source, a few examples.
 */

/**
 * What an id range of points shows, in one pass over the range (each point read once, its time
 * zone taken from the metadata once; four scans of the range took 1.6 times the PostgreSQL CPU on the bench).
 * Parameters: $1 after, $2 up to (point ids), $3 DATA_QUALITY_SKEW_HOURS, $4 the future tolerance in
 * minutes, $5 the lowest points-per-minute limit, $6 DATA_QUALITY_INTERLEAVE_MINUTES. Each column is
 * a JSON array of a few rows per source at most, never the points:
 * - agents: points per source and user agent (the automated-browser check runs in Node: isbot);
 * - skew: points whose clock is off, created more than $3 hours before recorded or more than $4
 *   minutes after it; donated points are left out, an order history is years old by nature;
 * - busy_minutes: minutes in which a source created more than $5 points of one type;
 * - interleaved: switches between user agents, and between time zones, from one point of a source
 *   to its next (by created) less than $6 minutes later; points without a user agent (or time zone)
 *   are left out of that comparison, so they neither make nor hide a switch.
 */
export const POINT_RANGE_SQL = `
  WITH points AS MATERIALIZED (
    SELECT id, source, generator_id, user_agent, created, recorded, bundle_id,
           properties -> 'passive-data-metadata' ->> 'timezone' AS zone
    FROM data_points WHERE id > $1 AND id <= $2
  ), agents AS (
    SELECT source, user_agent, count(*)::int AS n, min(created) AS first_seen, max(created) AS last_seen
    FROM points WHERE user_agent <> '' GROUP BY 1, 2
  ), skew AS (
    SELECT p.source, count(*)::int AS n, min(p.created) AS first_seen, max(p.created) AS last_seen,
           (array_agg(jsonb_build_object('type', p.generator_id, 'created', p.created, 'recorded', p.recorded) ORDER BY p.id))[1:5] AS examples
    FROM points p
    WHERE (p.created < p.recorded - make_interval(hours => $3) OR p.created > p.recorded + make_interval(mins => $4))
      AND NOT EXISTS (SELECT 1 FROM bundles b WHERE b.id = p.bundle_id AND b.transport = 'donation')
    GROUP BY 1
  ), busy_minutes AS (
    SELECT source, generator_id, date_trunc('minute', created) AS minute, count(*)::int AS n
    FROM points GROUP BY 1, 2, 3 HAVING count(*) > $5
  ), switches AS (
    SELECT source, created, 'user agent' AS what, previous AS from_value, user_agent AS to_value
    FROM (SELECT source, created, user_agent, lag(user_agent) OVER w AS previous, lag(created) OVER w AS previous_created
          FROM points WHERE user_agent <> '' WINDOW w AS (PARTITION BY source ORDER BY created, id)) s
    WHERE previous <> user_agent AND created - previous_created < make_interval(mins => $6)
    UNION ALL
    SELECT source, created, 'time zone', previous, zone
    FROM (SELECT source, created, zone, lag(zone) OVER w AS previous, lag(created) OVER w AS previous_created
          FROM points WHERE zone <> '' WINDOW w AS (PARTITION BY source ORDER BY created, id)) s
    WHERE previous <> zone AND created - previous_created < make_interval(mins => $6)
  ), interleaved AS (
    SELECT source, count(*)::int AS n, min(created) AS first_seen, max(created) AS last_seen,
           (array_agg(jsonb_build_object('at', created, 'what', what, 'from', from_value, 'to', to_value) ORDER BY created))[1:5] AS examples
    FROM switches GROUP BY 1
  )
  SELECT (SELECT coalesce(jsonb_agg(agents), '[]') FROM agents) AS agents,
         (SELECT coalesce(jsonb_agg(skew), '[]') FROM skew) AS skew,
         (SELECT coalesce(jsonb_agg(busy_minutes), '[]') FROM busy_minutes) AS busy_minutes,
         (SELECT coalesce(jsonb_agg(interleaved), '[]') FROM interleaved) AS interleaved`;

/**
 * Bundles processed after the cursor ($1 processed_at, $2 id) and before every transaction still
 * open began ($3 rows at most): processing stamps processed_at with its transaction's start, so a
 * bundle still being processed can only get a time after that horizon. Returns the new cursor and,
 * per source, the uploads whose points were all stored already (a client re-sending; points
 * rejected as malformed are not counted as stored).
 */
export const DUPLICATES_SQL = `
  WITH horizon AS (
    SELECT least(now(), (SELECT min(xact_start) FROM pg_stat_activity
                         WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)) AS at
  ), read AS (
    SELECT id, processed_at, sources, point_count - coalesce(points_rejected, 0) AS point_count, points_added
    FROM bundles WHERE status = 'processed' AND (processed_at, id) > ($1::timestamptz, $2::bigint)
      AND processed_at < (SELECT coalesce(at, now()) FROM horizon)
    ORDER BY processed_at, id LIMIT $3
  ), stored_again AS (
    SELECT s.source, count(*)::int AS n, min(processed_at) AS first_seen, max(processed_at) AS last_seen,
           (array_agg(jsonb_build_object('bundle', id, 'points', point_count, 'processed', processed_at) ORDER BY id))[1:5] AS examples
    FROM read, unnest(sources) AS s(source)
    WHERE point_count > 0 AND points_added = 0
    GROUP BY 1
  )
  SELECT (SELECT count(*)::int FROM read) AS bundles,
         (SELECT jsonb_build_object('processed_at', processed_at, 'id', id) FROM read ORDER BY processed_at DESC, id DESC LIMIT 1) AS cursor,
         (SELECT coalesce(jsonb_agg(stored_again), '[]') FROM stored_again) AS evidence`;
