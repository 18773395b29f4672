-- How far `dcs import-pdk --database` got through an original server's points (issue 19), per
-- origin (`database:<host>/<name>`): every point before (last_recorded, last_point_id), in the
-- original's (recorded, id) order, is in our bundles. A re-run continues from there;
-- `--from-start` reads everything again (processing stores nothing twice).
CREATE TABLE pdk_import_progress (
  origin         text PRIMARY KEY,
  last_recorded  timestamptz NOT NULL,
  last_point_id  bigint NOT NULL,
  points_read    bigint NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The original's points that could not be imported (no passive-data-metadata, …), kept so that a
-- run that continues after them still lists them in its report.
CREATE TABLE pdk_import_failures (
  origin  text NOT NULL,
  key     text NOT NULL,
  reason  text NOT NULL,
  PRIMARY KEY (origin, key)
);
