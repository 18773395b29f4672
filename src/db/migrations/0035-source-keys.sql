-- The unique keys of points carry `source` (issue 22 C2-C3, scale-out.md §2c and §3 S5, S7, S12):
-- data_points (source, created, content_digest), data_point_files (point_source, point_created,
-- point_digest, file_id), amazon_harvested_points (source, created, content_digest), and the
-- harvest outbox's key (id, source). Citus (docs/scaling.md) refuses a unique key that lacks the
-- distribution column; so does a PARTITION BY HASH (source) level, which is how CI checks it
-- (test/db/hash-by-source.test.ts).
--
-- The keys identify the same points as before: content_digest hashes the point's JSON, which
-- holds its source (passive-data-metadata.source, which processing reads as the point's source,
-- src/processing/point-fields.ts), so two points with one (created, content_digest) always have
-- one source.
--
-- On a partitioned table, adding the key attaches a matching unique constraint a partition
-- already has instead of building its index again, so an operator of a very large database can
-- build each partition's index beforehand with CREATE UNIQUE INDEX CONCURRENTLY and make it the
-- partition's constraint (docs/partitions.md, "The unique key"). Otherwise each partition's index
-- is built here, in the migration's transaction (CONCURRENTLY is impossible inside one); the
-- NOTICE says how long it took. (A constraint, not a bare unique index: the archive's restore
-- reads the key from the constraints, src/archive/archive.repository.ts.)
--
-- On a database whose content digests (migration 0009, src/db/point-digests.ts) are not complete
-- yet, the old key is still on content_hash: this migration then only adds the columns and the
-- function, and point-digests.ts calls it in that step's last transaction.

ALTER TABLE data_point_files ADD COLUMN point_source text;
ALTER TABLE amazon_harvested_points ADD COLUMN source text;

ALTER TABLE harvest_queue DROP CONSTRAINT harvest_queue_pkey, ADD PRIMARY KEY (id, source);

CREATE FUNCTION dcs_key_points_by_source() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz := clock_timestamp();
  links_gone bigint;
  harvested_gone bigint;
BEGIN
  -- Links and harvested points take their point's source. Those whose point is not stored (its
  -- bundle queued again by `dcs reprocess` and not processed yet, or deleted) are dropped, as
  -- migration 0009's step did: the bundle links its files again when it is processed, and the
  -- harvest counts such a point again once (it cannot tell it from a new one).
  UPDATE data_point_files f SET point_source = p.source FROM data_points p
    WHERE p.created = f.point_created AND p.content_digest = f.point_digest;
  DELETE FROM data_point_files WHERE point_source IS NULL;
  GET DIAGNOSTICS links_gone = ROW_COUNT;
  ALTER TABLE data_point_files ALTER COLUMN point_source SET NOT NULL, DROP CONSTRAINT data_point_files_pkey,
    ADD PRIMARY KEY (point_source, point_created, point_digest, file_id);
  UPDATE amazon_harvested_points h SET source = p.source FROM data_points p
    WHERE p.created = h.created AND p.content_digest = h.content_digest;
  DELETE FROM amazon_harvested_points WHERE source IS NULL;
  GET DIAGNOSTICS harvested_gone = ROW_COUNT;
  ALTER TABLE amazon_harvested_points ALTER COLUMN source SET NOT NULL, DROP CONSTRAINT amazon_harvested_points_pkey,
    ADD PRIMARY KEY (source, created, content_digest);

  -- (point-digests.ts builds it with source at once)
  IF (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'data_points'::regclass AND conname = 'data_points_identity')
       IS DISTINCT FROM 'UNIQUE (source, created, content_digest)' THEN
    ALTER TABLE data_points DROP CONSTRAINT data_points_identity,
      ADD CONSTRAINT data_points_identity UNIQUE (source, created, content_digest);
  END IF;
  RAISE NOTICE 'data_points: unique key (source, created, content_digest) built in % s; % file links and % harvested points of points not stored dropped',
    round(extract(epoch FROM clock_timestamp() - started)::numeric, 1), links_gone, harvested_gone;
END
$$;

DO $$
BEGIN
  IF (SELECT finished_at IS NOT NULL FROM point_digest_backfill) THEN
    PERFORM dcs_key_points_by_source();
  ELSE
    RAISE NOTICE 'data_points: the unique key moves to (source, created, content_digest) with the content digests (migration 0009)';
  END IF;
END
$$;
