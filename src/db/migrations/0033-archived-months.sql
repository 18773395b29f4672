-- Months of data_points archived as Parquet by the job `partitions` (issue 22 M2,
-- docs/partitions.md). A month is detached first (from then on its late points land in the
-- DEFAULT partition), written out and verified, and only then dropped; `dcs archive restore`
-- brings it back as a partition. One row per partition ever archived.
CREATE TABLE archived_partitions (
  -- the partition's name; while state = 'detached' a table of that name holds its rows
  partition     text PRIMARY KEY,
  parent        text NOT NULL,
  -- its range; NULL: MINVALUE (the history partition)
  range_from    timestamptz,
  range_to      timestamptz NOT NULL,
  -- detached: rows still in the detached table; archived: written, verified and dropped;
  -- restored: attached again from the archive
  state         text NOT NULL CHECK (state IN ('detached', 'archived', 'restored')),
  -- the store (a folder's path or s3://bucket/prefix) and the manifest's key in it
  location      text,
  manifest_key  text,
  rows          bigint,
  bytes         bigint,
  detached_at   timestamptz NOT NULL DEFAULT now(),
  archived_at   timestamptz,
  restored_at   timestamptz
);
