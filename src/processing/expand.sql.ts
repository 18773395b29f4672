/**
 * One statement that expands a batch of decoded bundles into data points, inside PostgreSQL:
 * the JSON is parsed once (as jsonb) and never travels back to Node.
 *
 * Parameters:
 *   $1 jsonb         [bundle1Points, bundle2Points, ...]: each element one bundle's JSON array
 *   $2 bigint[]      bundle ids, in the same order
 *   $3 timestamptz[] bundle receipt times (the last fallback for `created`)
 *   $4 boolean[]     whether each bundle was uploaded encrypted
 *   $5 jsonb         attachment links [{"b": bundle ordinal, "i": point ordinal, "k": key, "f": field name}]
 *
 * Per point: rejected (with a reason) unless it is an object with passive-data-metadata holding
 * `source` and `generator`; otherwise inserted unless an identical point (same canonical JSON,
 * same `created`) already exists. Sources are registered and their counters advanced; each bundle
 * is marked processed with its counts. Returns one row per bundle.
 */
export const EXPAND_BUNDLES_SQL = `
WITH input AS (
  SELECT b.ord, b.bundle_id, b.received_at, b.encrypted, arr.points
  FROM unnest($2::bigint[], $3::timestamptz[], $4::boolean[]) WITH ORDINALITY AS b (bundle_id, received_at, encrypted, ord)
  JOIN jsonb_array_elements($1::jsonb) WITH ORDINALITY AS arr (points, ord) USING (ord)
),
raw AS (
  SELECT i.ord, i.bundle_id, i.received_at, i.encrypted, e.idx, e.point,
         CASE WHEN jsonb_typeof(e.point) = 'object' THEN e.point -> 'passive-data-metadata' END AS meta
  FROM input i
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(i.points) = 'array' THEN i.points ELSE '[]' END)
    WITH ORDINALITY AS e (point, idx)
),
checked AS (
  SELECT r.*,
    CASE
      WHEN jsonb_typeof(r.point) <> 'object' THEN 'not-an-object'
      WHEN jsonb_typeof(r.meta) IS DISTINCT FROM 'object' THEN 'missing-metadata'
      WHEN NOT r.meta ? 'source' THEN 'missing-source'
      WHEN NOT r.meta ? 'generator' THEN 'missing-generator'
    END AS rejection,
    coalesce(nullif(CASE WHEN jsonb_typeof(r.meta -> 'source') IN ('string', 'number', 'boolean') THEN r.meta ->> 'source' END, ''),
             'missing-source') AS source
  FROM raw r
),
accepted AS (
  SELECT c.ord, c.idx, c.bundle_id, c.encrypted, c.point, c.source,
    coalesce(nullif(CASE WHEN jsonb_typeof(c.meta -> 'generator-id') = 'string' THEN c.meta ->> 'generator-id' END, ''),
             'unknown-generator') AS generator_id,
    coalesce(CASE WHEN jsonb_typeof(c.meta -> 'generator') IN ('object', 'array') THEN (c.meta -> 'generator')::text ELSE c.meta ->> 'generator' END, '') AS generator,
    jsonb_hash_extended(c.point, 0) AS content_hash,
    coalesce(t.by_timestamp, t.by_date, t.by_date_text, c.received_at) AS created,
    CASE WHEN t.by_timestamp IS NOT NULL THEN 'timestamp'
         WHEN t.by_date IS NOT NULL THEN 'date'
         WHEN t.by_date_text IS NOT NULL THEN 'date-text'
         ELSE 'received' END AS created_from
  FROM checked c
  CROSS JOIN LATERAL (SELECT
    dcs_epoch(c.meta -> 'timestamp', 1) AS by_timestamp,
    dcs_epoch(c.point -> 'date', 1000) AS by_date,
    CASE WHEN jsonb_typeof(c.point -> 'date') = 'string' THEN dcs_text_timestamp(c.point ->> 'date') END AS by_date_text
  ) t
  WHERE c.rejection IS NULL
),
inserted AS (
  INSERT INTO data_points (source, generator_id, generator, secondary_identifier, user_agent, created, created_from,
                           recorded, bundle_id, content_hash, properties)
  SELECT a.source, a.generator_id, a.generator,
    CASE dt.secondary_kind
      WHEN 'key' THEN a.point #>> dt.secondary_path
      WHEN 'url-host' THEN substring(a.point #>> dt.secondary_path FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)')
      WHEN 'voices-present' THEN CASE a.point #>> dt.secondary_path WHEN 'true' THEN 'present' WHEN 'false' THEN 'not-present' ELSE 'unknown' END
    END,
    CASE WHEN strpos(a.generator, ':') > 0 THEN btrim(substr(a.generator, strpos(a.generator, ':') + 1)) ELSE btrim(a.generator) END,
    a.created, a.created_from, now(), a.bundle_id, a.content_hash,
    jsonb_set(a.point, '{passive-data-metadata,encrypted_transmission}', to_jsonb(a.encrypted))
  FROM accepted a
  LEFT JOIN data_types dt ON dt.identifier = a.generator_id
  ON CONFLICT ON CONSTRAINT data_points_identity DO NOTHING
  RETURNING bundle_id, source, created, user_agent
),
linked AS (
  INSERT INTO data_point_files (point_created, point_hash, file_id, key)
  SELECT a.created, a.content_hash, f.id, l.k
  FROM jsonb_to_recordset($5::jsonb) AS l (b bigint, i bigint, k text, f text)
  JOIN accepted a ON a.ord = l.b AND a.idx = l.i
  JOIN bundle_files f ON f.bundle_id = a.bundle_id AND f.field_name = l.f
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
counts AS (
  SELECT bundle_id, count(*) AS total, count(*) FILTER (WHERE rejection IS NOT NULL) AS rejected,
         array_agg(DISTINCT source) FILTER (WHERE rejection IS NULL) AS sources
  FROM checked GROUP BY bundle_id
),
reasons AS (
  SELECT bundle_id, jsonb_object_agg(rejection, n) AS rejections
  FROM (SELECT bundle_id, rejection, count(*) AS n FROM checked WHERE rejection IS NOT NULL GROUP BY 1, 2) r
  GROUP BY bundle_id
),
added AS (
  SELECT bundle_id, count(*) AS n FROM inserted GROUP BY bundle_id
)
UPDATE bundles b SET
  status = 'processed', processed_at = now(), error = NULL,
  point_count = coalesce(c.total, 0), points_added = coalesce(a.n, 0), points_rejected = coalesce(c.rejected, 0),
  rejections = r.rejections, sources = c.sources
FROM input i
LEFT JOIN counts c ON c.bundle_id = i.bundle_id
LEFT JOIN reasons r ON r.bundle_id = i.bundle_id
LEFT JOIN added a ON a.bundle_id = i.bundle_id
WHERE b.id = i.bundle_id
RETURNING b.id, b.point_count, b.points_added, b.points_rejected
`;
