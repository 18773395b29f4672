-- Data-quality flags (issue 21 §1): per source and kind, the evidence the data-quality job found
-- in the points and uploads it has read, and when the flag was raised. The job reads only what is
-- new since its cursor (data_points by id, behind the same SHARE-lock horizon as the ASIN harvest;
-- processed bundles by processed_at), never all points. Nothing here changes or hides data.
CREATE TABLE data_quality_flags (
  source       text NOT NULL,
  -- automated-browser | clock-skew | duplicate-storm | impossible-rate | interleaved | test-identifier
  kind         text NOT NULL,
  -- how many points (or, for duplicate-storm, uploads) showed it
  evidence_count bigint NOT NULL DEFAULT 0,
  -- `created` of the first and last such point (duplicate-storm: processing time of the uploads)
  first_seen   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  -- a few examples (at most 5): the user agent, the times, the counts that triggered it
  examples     jsonb NOT NULL DEFAULT '[]',
  -- when the evidence first reached the kind's threshold; NULL: seen, but not (yet) a flag
  raised_at    timestamptz,
  -- when a raised flag was cleared (the source stopped matching the team's patterns); NULL: active
  cleared_at   timestamptz,
  PRIMARY KEY (source, kind)
);
CREATE INDEX data_quality_flags_raised ON data_quality_flags (kind, source) WHERE raised_at IS NOT NULL AND cleared_at IS NULL;

-- The job's cursors: every point with id <= last_point_id has been read, and every bundle processed
-- at or before last_bundle_processed_at (ties: with id <= last_bundle_id).
CREATE TABLE data_quality_state (
  singleton                 boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_point_id             bigint NOT NULL DEFAULT 0,
  last_bundle_processed_at  timestamptz NOT NULL DEFAULT '-infinity',
  last_bundle_id            bigint NOT NULL DEFAULT 0,
  updated_at                timestamptz
);
INSERT INTO data_quality_state DEFAULT VALUES;

-- Newly processed bundles, in the order they were processed (the duplicate-storm check).
CREATE INDEX bundles_processed_at ON bundles (processed_at, id) WHERE status = 'processed';
