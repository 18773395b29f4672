-- Export report jobs: what was asked (sources, types, days, format), by whom, where the archive
-- goes, and how far it got. Unlike the original's, a job has an error state and a heartbeat, so
-- a failed job can be retried and one interrupted by a crash is picked up again.
CREATE TABLE report_jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- a staff user name, 'nightly' or 'cli'
  requested_by    text NOT NULL,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  -- nightly jobs: 'nightly:<day>' (a re-run adds ':<time>'); one row per batch and sequence, so
  -- queueing a day twice adds nothing
  batch           text,
  sequence        integer,
  -- what the requester chose, for the jobs list: {"all": true} | {"groups": [...]} | {"sources": [...]}
  selection       jsonb NOT NULL,
  -- the sources it exports, resolved and sorted when it was requested
  sources         text[] NOT NULL,
  types           text[] NOT NULL,
  date_from       date,
  date_to         date,
  date_type       text NOT NULL CHECK (date_type IN ('created', 'recorded')),
  format          text NOT NULL CHECK (format IN ('tsv', 'raw', 'parquet')),
  -- the archive's name is <folder><prefix>_<id>_<start day>.zip (pdk-server.md §7.3)
  name_folder     text NOT NULL DEFAULT '',
  name_prefix     text NOT NULL,
  file_name       text,
  -- 'folder' (EXPORT_DIR), 's3' (EXPORT_S3_BUCKET), or 'file:<path>' (dcs export --out)
  destinations    text[] NOT NULL,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  points_written  bigint NOT NULL DEFAULT 0,
  types_done      integer NOT NULL DEFAULT 0,
  sources_done    integer NOT NULL DEFAULT 0,
  started_at      timestamptz,
  heartbeat_at    timestamptz,
  finished_at     timestamptz,
  error           text,
  file_bytes      bigint,
  -- where the finished archive is: a local path, s3://bucket/key
  stored_at       text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX report_jobs_batch ON report_jobs (batch, sequence) WHERE batch IS NOT NULL;
CREATE INDEX report_jobs_open ON report_jobs (id) WHERE state IN ('queued', 'running');
CREATE INDEX report_jobs_requested ON report_jobs (requested_at DESC);
