-- Points are identified by (created, content_digest) instead of (created, content_hash). The
-- former content_hash was jsonb_hash_extended, 64 bits of XORed parts that ignore the sign of
-- numbers: points differing only in signs, or in values that cancel out, were dropped as
-- duplicates. content_digest is the first 128 bits of the SHA-256 of the point's jsonb text
-- without the encrypted_transmission key processing adds (src/processing/content-digest.ts
-- computes the same in Node). uuid: a fixed 16 bytes, a smaller key than bytea's.
--
-- This file only adds (instant on any table). Giving every existing point its digest rewrites
-- each row, so it is done by src/db/point-digests.ts, in batches with progress: at once here
-- when data_points is empty, otherwise by the processing worker before it processes anything
-- (or in the foreground by `dcs migrate`). That step then moves the unique key, the file links
-- and the harvested points to the digest and drops content_hash (docs/operations.md).

-- (Points always have a metadata object; the CASE makes the function total, like Node's.)
CREATE FUNCTION dcs_point_digest(point jsonb) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT encode(substring(sha256(convert_to(CASE WHEN jsonb_typeof(point -> 'passive-data-metadata') = 'object'
    THEN point #- '{passive-data-metadata,encrypted_transmission}' ELSE point END::text, 'UTF8')) FOR 16), 'hex')::uuid
$$;

ALTER TABLE data_points ADD COLUMN content_digest uuid;
ALTER TABLE data_point_files ADD COLUMN point_digest uuid;
ALTER TABLE amazon_harvested_points ADD COLUMN content_digest uuid;

-- Where the backfill stands: it walks data_points' heap as it was when it started (total_blocks
-- 8 KB blocks; rows up to max_id), next_block at a time; finished_at once the keys have moved.
CREATE TABLE point_digest_backfill (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  total_blocks  bigint,
  max_id        bigint,
  next_block    bigint NOT NULL DEFAULT 0,
  points_done   bigint NOT NULL DEFAULT 0,
  started_at    timestamptz,
  finished_at   timestamptz
);
INSERT INTO point_digest_backfill DEFAULT VALUES;
