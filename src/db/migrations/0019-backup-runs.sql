-- Every backup run (issue 19): System health shows the newest successful one and its age, the
-- backup-overdue alert and /metrics read it, `dcs backup list` shows the history. The files and
-- their manifest are at the destinations; this is the server's own record of what it sent.
CREATE TABLE backup_runs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- the run's name at the destinations: dcs-backup/<name>/manifest.json
  name            text NOT NULL UNIQUE,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  state           text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'succeeded', 'failed')),
  error           text,
  destinations    text[] NOT NULL,
  bundles         bigint NOT NULL DEFAULT 0,
  first_bundle    bigint,
  last_bundle     bigint,
  files           integer NOT NULL DEFAULT 0,
  bytes           bigint NOT NULL DEFAULT 0,
  -- small-table rows copied (all of them each run; Amazon products changed since the last run)
  table_rows      bigint NOT NULL DEFAULT 0,
  -- Amazon products updated at or after this were copied (the next run starts from the start of this one)
  products_since  timestamptz
);
CREATE INDEX backup_runs_succeeded ON backup_runs (finished_at) WHERE state = 'succeeded';
