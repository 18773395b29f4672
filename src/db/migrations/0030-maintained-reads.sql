-- Reads that scanned data_points now read tables kept up to date as points arrive (issue 22 §2,
-- scale-out.md M5): on a partitioned or distributed data_points each of them probed every
-- partition (or every node) per source.

-- Each source's newest pdk-system-status point (the extension's own report: points waiting to be
-- uploaded, ...), for the client-backlog check. Written by processing in the transaction that
-- stores the point (processing/latest-status.ts): one row per source, replaced only by a newer
-- point, by (created, content_digest), so a late upload of an older status changes nothing.
CREATE TABLE source_latest_status (
  source          text PRIMARY KEY,
  created         timestamptz NOT NULL,
  content_digest  uuid NOT NULL,
  properties      jsonb NOT NULL
);

-- From the points already stored (one index probe per source, on data_points_source). A point
-- whose digest migration 0009's backfill has not reached yet counts as the lowest digest.
INSERT INTO source_latest_status (source, created, content_digest, properties)
SELECT s.source, p.created, coalesce(p.content_digest, '00000000-0000-0000-0000-000000000000'), p.properties
FROM data_sources s
CROSS JOIN LATERAL (
  SELECT d.created, d.content_digest, d.properties FROM data_points d
  WHERE d.source = s.source AND d.generator_id = 'pdk-system-status'
  ORDER BY d.created DESC, d.content_digest DESC NULLS LAST LIMIT 1
) p;

-- The data types with points (`dcs export --types all`), by a skip scan of this small index
-- instead of one over data_points' (generator_id, created).
CREATE INDEX source_daily_points_type ON source_daily_points (generator_id);
