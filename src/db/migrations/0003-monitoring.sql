-- Monitoring and the staff dashboard: source names and groups, per-source statistics kept
-- incrementally, alerts, job runs, server health snapshots and staff accounts.

-- Groups of sources (the original's DataSourceGroup). Suppressing a group suppresses the alerts
-- of every source in it.
CREATE TABLE source_groups (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name             text NOT NULL UNIQUE,
  suppress_alerts  boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- What the study team says about a source (name, group, alerts), and the statistics the
-- source-statistics job keeps. Processing never writes these columns.
ALTER TABLE data_sources
  -- friendly name; NULL shows the identifier. Unique, as in the original.
  ADD COLUMN name                  text,
  ADD COLUMN group_id              bigint REFERENCES source_groups (id) ON DELETE SET NULL,
  ADD COLUMN suppress_alerts       boolean NOT NULL DEFAULT false,
  -- "remove" hides a source from the dashboard and its checks; its data stays. Adding the same
  -- identifier again brings it back.
  ADD COLUMN removed_at            timestamptz,
  -- receipt time of the newest upload that brought new points (kept by source-statistics)
  ADD COLUMN last_upload_at        timestamptz,
  -- points created in the statistics window (METADATA_WINDOW_DAYS, default 60 days)
  ADD COLUMN window_points         bigint NOT NULL DEFAULT 0,
  ADD COLUMN window_first_created  timestamptz,
  ADD COLUMN window_last_created   timestamptz,
  -- window_points / seconds between the window's first and last point; NULL with < 2 points
  ADD COLUMN frequency_hz          double precision,
  -- points per day for the 14 days ending stats_day (oldest first), for the activity strip
  ADD COLUMN daily_points          integer[],
  ADD COLUMN stats_day             date,
  ADD COLUMN stats_updated_at      timestamptz;
CREATE UNIQUE INDEX data_sources_name ON data_sources (name) WHERE name IS NOT NULL;
CREATE INDEX data_sources_group ON data_sources (group_id);

-- Points added (or, with negative `points`, removed by a reprocess), appended by processing in
-- the same transaction as the points themselves, and folded into the tables below by the
-- source-statistics job, which deletes what it folds. Append-only: no contention between
-- processing loops, and a row committed late is simply folded on the next run, so the
-- statistics are exact without ever scanning data_points.
CREATE TABLE source_point_deltas (
  source         text NOT NULL,
  generator_id   text NOT NULL,
  user_agent     text,
  -- start of the 10-minute bucket of the points' `created`
  bucket         timestamptz NOT NULL,
  points         integer NOT NULL,
  first_created  timestamptz NOT NULL,
  last_created   timestamptz NOT NULL,
  -- receipt time of the newest bundle that brought them
  received_at    timestamptz,
  recorded       timestamptz NOT NULL DEFAULT now()
);

-- Points per source, data type and day of `created` (in TIME_ZONE).
CREATE TABLE source_daily_points (
  source         text NOT NULL,
  generator_id   text NOT NULL,
  day            date NOT NULL,
  points         bigint NOT NULL,
  first_created  timestamptz NOT NULL,
  last_created   timestamptz NOT NULL,
  last_recorded  timestamptz NOT NULL,
  PRIMARY KEY (source, generator_id, day)
);

-- Points per source in 10-minute buckets over the last days, by `created` (kind 'c') and by
-- `recorded` (kind 'r'): the source page's charts. Older buckets are pruned.
CREATE TABLE source_recent_points (
  source  text NOT NULL,
  kind    char(1) NOT NULL CHECK (kind IN ('c', 'r')),
  bucket  timestamptz NOT NULL,
  points  integer NOT NULL,
  PRIMARY KEY (source, kind, bucket)
);

-- Which user agents each source's points came from (the user-agents page, the automated-browser
-- check). first_seen/last_seen are point `created` times.
CREATE TABLE user_agent_sources (
  user_agent  text NOT NULL,
  source      text NOT NULL,
  points      bigint NOT NULL,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  PRIMARY KEY (user_agent, source)
);
CREATE INDEX user_agent_sources_source ON user_agent_sources (source, last_seen);

-- Points already stored when this migration runs are counted once, through the same path.
INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created, recorded)
SELECT source, generator_id, user_agent, date_bin('10 minutes', created, timestamptz '2000-01-01 00:00:00+00'),
       count(*), min(created), max(created), max(recorded)
FROM data_points
GROUP BY 1, 2, 3, 4;

-- Alerts raised by the status checks (the original's DataSourceAlert). At most one active alert
-- per source and check; a change of name or level closes it and opens a new one.
CREATE TABLE alerts (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source    text NOT NULL REFERENCES data_sources (source) ON DELETE CASCADE,
  check_id  text NOT NULL,
  name      text NOT NULL,
  level     text NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
  details   jsonb NOT NULL,
  created   timestamptz NOT NULL DEFAULT now(),
  updated   timestamptz NOT NULL DEFAULT now(),
  active    boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX alerts_active ON alerts (source, check_id) WHERE active;
CREATE INDEX alerts_source ON alerts (source, created DESC);

-- Every run of a scheduled job, whoever started it.
CREATE TABLE job_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job          text NOT NULL,
  -- schedule | cli | dashboard
  trigger      text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  -- running -> succeeded | failed; interrupted: its process died before it finished
  outcome      text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted')),
  counts       jsonb,
  error        text,
  host         text,
  pid          integer
);
CREATE INDEX job_runs_job ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_started ON job_runs (started_at DESC);

-- Cumulative totals per job, for /metrics counters that never go backwards when old runs are pruned.
CREATE TABLE job_totals (
  job       text PRIMARY KEY,
  runs      bigint NOT NULL DEFAULT 0,
  failures  bigint NOT NULL DEFAULT 0,
  seconds   double precision NOT NULL DEFAULT 0
);

-- What the system-health page plots: one row per server-health run.
CREATE TABLE server_health_snapshots (
  taken_at                timestamptz PRIMARY KEY DEFAULT now(),
  bundles_received        bigint NOT NULL,
  bundles_added           bigint NOT NULL,
  bundles_pending         bigint NOT NULL,
  bundles_errored         bigint NOT NULL,
  points_total            bigint NOT NULL,
  points_added            bigint NOT NULL,
  processing_lag_seconds  double precision
);

-- Staff accounts for the dashboard. Passwords are argon2id hashes (PHC strings).
CREATE TABLE staff_users (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username       text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  is_admin       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz
);

-- Login sessions. The cookie holds a random token; only its SHA-256 is stored, so a database
-- dump does not let anyone log in. csrf_token is the session's synchronizer token for forms.
CREATE TABLE staff_sessions (
  token_hash    bytea PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  address       text,
  user_agent    text
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

-- Failed logins, for rate limiting per account and per address across every web process.
CREATE TABLE login_failures (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username  text NOT NULL,
  address   text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);
