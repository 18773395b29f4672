/**
 * One statement that stores a batch of decoded bundles' points. Node has already read each
 * point's metadata (point-fields.ts) and dropped the rejected ones; PostgreSQL parses the bundles'
 * JSON once (as jsonb), picks the accepted points out by position, hashes and stores them,
 * registers their sources and marks the bundles processed.
 *
 * Parameters:
 *   $1  jsonb          [bundle1Points, bundle2Points, ...]: each element one bundle's JSON array
 *   $2  int[]          per accepted point: its bundle's position in $1 (1-based)
 *   $3  int[]          ... its position in that bundle (1-based)
 *   $4  text[]         ... source
 *   $5  text[]         ... generator id
 *   $6  text[]         ... generator
 *   $7  text[]         ... user agent
 *   $8  float8[]       ... client time in epoch seconds, or NULL
 *   $9  text[]         ... where that time came from (timestamp | date), or NULL
 *   $10 text[]         ... body `date` text to try as an ISO time, or NULL
 *   $11 bigint[]       per bundle (in $1 order): id
 *   $12 timestamptz[]  ... receipt time (the last fallback for `created`)
 *   $13 boolean[]      ... uploaded encrypted
 *   $14 int[]          ... number of elements
 *   $15 int[]          ... number rejected
 *   $16 text[]         ... rejections as a JSON object, or NULL
 *   $17 text[]         ... distinct accepted sources as a JSON array, or NULL if none
 *   $18 jsonb          attachment links [{"b": bundle position, "i": point position, "k": key, "f": field name}]
 *
 * Each batch also appends its per-source counts to source_point_deltas, which the
 * source-statistics job folds into the dashboard's statistics.
 *
 * A point is inserted unless an identical one (same canonical JSON, same `created`) exists.
 * Returns one row per bundle with the number of points added.
 */
export const EXPAND_BUNDLES_SQL = `
WITH bundle AS (
  SELECT b.ord, b.id, b.received_at, b.encrypted, b.total, b.rejected, b.rejections, b.sources, arr.points
  FROM unnest($11::bigint[], $12::timestamptz[], $13::boolean[], $14::int[], $15::int[], $16::text[], $17::text[])
    WITH ORDINALITY AS b (id, received_at, encrypted, total, rejected, rejections, sources, ord)
  JOIN jsonb_array_elements($1::jsonb) WITH ORDINALITY AS arr (points, ord) USING (ord)
),
point AS (
  SELECT p.bord, p.pidx, b.id AS bundle_id, b.encrypted, p.source, p.generator_id, p.generator, p.user_agent,
    b.points -> (p.pidx - 1) AS body,
    coalesce(to_timestamp(p.epoch), t.parsed, b.received_at) AS created,
    coalesce(p.epoch_from, CASE WHEN t.parsed IS NOT NULL THEN 'date-text' ELSE 'received' END) AS created_from
  FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[])
    AS p (bord, pidx, source, generator_id, generator, user_agent, epoch, epoch_from, date_text)
  JOIN bundle b ON b.ord = p.bord
  CROSS JOIN LATERAL (SELECT CASE WHEN p.epoch IS NULL THEN dcs_text_timestamp(p.date_text) END AS parsed) t
),
hashed AS MATERIALIZED (
  SELECT p.*, jsonb_hash_extended(p.body, 0) AS content_hash FROM point p
),
inserted AS (
  INSERT INTO data_points (source, generator_id, generator, secondary_identifier, user_agent, created, created_from,
                           recorded, bundle_id, content_hash, properties)
  SELECT h.source, h.generator_id, h.generator,
    CASE dt.secondary_kind
      WHEN 'key' THEN h.body #>> dt.secondary_path
      WHEN 'url-host' THEN substring(h.body #>> dt.secondary_path FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)')
      WHEN 'voices-present' THEN CASE h.body #>> dt.secondary_path WHEN 'true' THEN 'present' WHEN 'false' THEN 'not-present' ELSE 'unknown' END
    END,
    h.user_agent, h.created, h.created_from, now(), h.bundle_id, h.content_hash,
    jsonb_set(h.body, '{passive-data-metadata,encrypted_transmission}', to_jsonb(h.encrypted))
  FROM hashed h
  LEFT JOIN data_types dt ON dt.identifier = h.generator_id
  ON CONFLICT ON CONSTRAINT data_points_identity DO NOTHING
  RETURNING bundle_id, source, generator_id, created, user_agent
),
linked AS (
  INSERT INTO data_point_files (point_created, point_hash, file_id, key)
  SELECT h.created, h.content_hash, f.id, l.k
  FROM jsonb_to_recordset($18::jsonb) AS l (b int, i int, k text, f text)
  JOIN hashed h ON h.bord = l.b AND h.pidx = l.i
  JOIN bundle_files f ON f.bundle_id = h.bundle_id AND f.field_name = l.f
  ON CONFLICT DO NOTHING
),
registered AS (
  INSERT INTO data_sources AS s (source, first_seen, latest_point_created, latest_point_recorded, latest_user_agent, point_count)
  SELECT source, now(), max(created), now(), (array_agg(user_agent ORDER BY created DESC))[1], count(*)
  FROM inserted GROUP BY source ORDER BY source
  ON CONFLICT (source) DO UPDATE SET
    latest_point_created = greatest(s.latest_point_created, excluded.latest_point_created),
    latest_point_recorded = excluded.latest_point_recorded,
    latest_user_agent = CASE WHEN excluded.latest_point_created >= s.latest_point_created OR s.latest_point_created IS NULL
                             THEN excluded.latest_user_agent ELSE s.latest_user_agent END,
    point_count = s.point_count + excluded.point_count
),
-- For the source-statistics job (monitoring): append-only, so loops never wait on each other.
counted AS (
  INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created, received_at)
  SELECT i.source, i.generator_id, i.user_agent, date_bin('10 minutes', i.created, timestamptz '2000-01-01 00:00:00+00'),
    count(*), min(i.created), max(i.created), max(b.received_at)
  FROM inserted i JOIN bundle b ON b.id = i.bundle_id
  GROUP BY 1, 2, 3, 4
),
added AS (
  SELECT bundle_id, count(*) AS n FROM inserted GROUP BY bundle_id
)
UPDATE bundles t SET
  status = 'processed', processed_at = now(), error = NULL,
  point_count = b.total, points_added = coalesce(a.n, 0), points_rejected = b.rejected,
  rejections = b.rejections::jsonb,
  sources = CASE WHEN b.sources IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(b.sources::jsonb)) END
FROM bundle b
LEFT JOIN added a ON a.bundle_id = b.id
WHERE t.id = b.id
RETURNING t.id, t.point_count, t.points_added, t.points_rejected
`;
