-- Core tables: uploads (bundles) as received, their attachments, the data points derived from
-- them, the participants (data sources) and the data-type catalog. See docs/glossary.md.

-- One row per upload, exactly as received. Never modified except for processing bookkeeping.
CREATE TABLE bundles (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at   timestamptz NOT NULL DEFAULT now(),
  -- add-bundle.json (bundle: a JSON array) or add-point.json (point: one JSON object)
  endpoint      text NOT NULL CHECK (endpoint IN ('bundle', 'point')),
  -- how it arrived: create (CREATE, raw JSON) | json (POST, raw JSON) | form | multipart | put
  transport     text NOT NULL,
  content_type  text,
  -- none | gzip: how `body` is compressed.
  compression   text NOT NULL DEFAULT 'none',
  -- true: `body` is a NaCl box (with `nonce`); it stays encrypted at rest.
  encrypted     boolean NOT NULL DEFAULT false,
  nonce         bytea,
  -- The payload as sent, after transport decoding only (form field, base64): JSON text, gzip
  -- bytes or ciphertext. For an upload that could not be decoded: the whole request body.
  body          bytea NOT NULL,
  -- X-PDK-IDENTIFIER header (G2b+ clients): the participant, as the client says.
  identifier    text,
  -- pending -> processed, or errored (undecodable upload, or failed processing attempts).
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'errored')),
  attempts      integer NOT NULL DEFAULT 0,
  error         text,
  processed_at  timestamptz,
  point_count   integer,
  points_added  integer,
  points_rejected integer,
  -- reason -> number of points not stored (missing source, missing generator, ...)
  rejections    jsonb,
  -- distinct sources of the bundle's points, for `dcs reprocess --source`.
  sources       text[]
);
-- Bodies are mostly gzip or ciphertext: compressing them again wastes CPU on the upload path.
ALTER TABLE bundles ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX bundles_pending ON bundles (id) WHERE status = 'pending';
CREATE INDEX bundles_errored ON bundles (id) WHERE status = 'errored';
CREATE INDEX bundles_received ON bundles (received_at);
CREATE INDEX bundles_sources ON bundles USING gin (sources);

-- Files uploaded as multipart parts; `field_name` is what points name in their `@` keys.
CREATE TABLE bundle_files (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bundle_id     bigint NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
  field_name    text NOT NULL,
  filename      text,
  content_type  text,
  size          bigint NOT NULL,
  content       bytea NOT NULL
);
CREATE INDEX bundle_files_bundle ON bundle_files (bundle_id, field_name);

-- Data types: label and the rule that extracts each point's secondary identifier. Rows are
-- written from src/processing/data-types.ts at start; unknown types simply have no row.
CREATE TABLE data_types (
  identifier      text PRIMARY KEY,
  label           text NOT NULL,
  -- key: the value at secondary_path; url-host: the host of the URL there;
  -- voices-present: present / not-present / unknown from a boolean there.
  secondary_kind  text CHECK (secondary_kind IN ('key', 'url-host', 'voices-present')),
  secondary_path  text[]
);

-- One row per observation. The unique key (created, content_hash) makes processing idempotent
-- and includes `created`, so the table can later be range-partitioned by time.
CREATE TABLE data_points (
  id                    bigint GENERATED ALWAYS AS IDENTITY,
  source                text NOT NULL,
  generator_id          text NOT NULL,
  generator             text NOT NULL,
  secondary_identifier  text,
  user_agent            text,
  -- client time of the observation; created_from says where it came from:
  -- timestamp (metadata, seconds) | date (ms) | date-text (ISO string) | received (upload time)
  created               timestamptz NOT NULL,
  created_from          text NOT NULL,
  recorded              timestamptz NOT NULL,
  -- a bundle that delivered this point (the first to be processed; among copies processed in one
  -- batch, any of them). No foreign key: bundles may be archived.
  bundle_id             bigint NOT NULL,
  -- 64-bit hash of the point's canonical form (jsonb_hash_extended: whitespace and key order do
  -- not matter). With `created` it identifies a point: two different points would need the same
  -- client time to the microsecond and a colliding 64-bit hash to be merged.
  content_hash          bigint NOT NULL,
  -- the point object as received (jsonb: key order and whitespace normalised), plus
  -- passive-data-metadata.encrypted_transmission as the original server adds it.
  properties            jsonb NOT NULL,
  CONSTRAINT data_points_identity UNIQUE (created, content_hash)
);
CREATE INDEX data_points_source ON data_points (source, generator_id, created);
CREATE INDEX data_points_generator ON data_points (generator_id, created);
CREATE INDEX data_points_recorded ON data_points USING brin (recorded);
CREATE INDEX data_points_bundle ON data_points (bundle_id);
-- Point JSON is compressed with lz4 where the server has it (Debian, most managed services): it
-- is several times faster than PostgreSQL's default pglz. Where it is missing (the embedded
-- build), pglz would cost more than half of processing time, so points are stored uncompressed
-- (about twice the disk). To trade CPU for disk there:
--   ALTER TABLE data_points ALTER COLUMN properties SET STORAGE EXTENDED, RESET (toast_tuple_target);
DO $$
BEGIN
  ALTER TABLE data_points ALTER COLUMN properties SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  ALTER TABLE data_points ALTER COLUMN properties SET STORAGE EXTERNAL;
  ALTER TABLE data_points SET (toast_tuple_target = 8160);
END
$$;

-- Links points to the files their `@` keys name.
CREATE TABLE data_point_files (
  point_created  timestamptz NOT NULL,
  point_hash     bigint NOT NULL,
  file_id        bigint NOT NULL REFERENCES bundle_files (id) ON DELETE CASCADE,
  key            text NOT NULL,
  PRIMARY KEY (point_created, point_hash, file_id)
);

-- Participants, registered as their points arrive; counts kept here so nothing on a hot path
-- needs COUNT(*) over data_points.
CREATE TABLE data_sources (
  source                 text PRIMARY KEY,
  first_seen             timestamptz NOT NULL,
  latest_point_created   timestamptz,
  latest_point_recorded  timestamptz,
  latest_user_agent      text,
  point_count            bigint NOT NULL DEFAULT 0
);

-- Epoch seconds (number or numeric string) -> timestamptz; NULL when absent or implausible
-- (negative, or past year 5138, which is what a millisecond value sent as seconds looks like).
CREATE FUNCTION dcs_epoch(value jsonb, units_per_second numeric) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n >= 0 AND n < 100000000000 THEN to_timestamp(n::float8) END
  FROM (SELECT CASE
    WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric / units_per_second
    WHEN jsonb_typeof(value) = 'string'
      AND (value #>> '{}') ~ '^\s*-?[0-9]{1,20}(\.[0-9]{0,20})?([eE][-+]?[0-9]{1,2})?\s*$'
      THEN btrim(value #>> '{}')::numeric / units_per_second
  END AS n) AS parsed
$$;

-- An ISO-8601 text as timestamptz, or NULL if it is not one (never raises).
CREATE FUNCTION dcs_text_timestamp(value text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF value IS NULL OR value !~ '^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?\s*$' THEN
    RETURN NULL;
  END IF;
  -- Without a zone the client's local time is unknown; read it as UTC.
  RETURN (CASE WHEN value ~ '(Z|[+-]\d{2}(:?\d{2})?)\s*$' THEN value ELSE value || ' UTC' END)::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
