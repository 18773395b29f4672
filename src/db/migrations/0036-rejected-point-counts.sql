-- The points rejected in processing, summed over every bundle, from the bundle counters (0031)
-- instead of a sum over bundles: `dcs status` and the System health page read it on every call,
-- and a multi-year study's bundles are billions of rows (issue 22, scale-out.md Q17).
ALTER TABLE bundle_counts ADD COLUMN points_rejected bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION count_inserted_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored, points_rejected)
  SELECT count(*), count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'errored'), coalesce(sum(points_rejected), 0)
  FROM inserted_bundles HAVING count(*) > 0;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION count_deleted_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored, points_rejected)
  SELECT -count(*), -count(*) FILTER (WHERE status = 'pending'), -count(*) FILTER (WHERE status = 'errored'), -coalesce(sum(points_rejected), 0)
  FROM deleted_bundles HAVING count(*) > 0;
  RETURN NULL;
END
$$;

-- Processing sets points_rejected when it records a batch, and reprocessing clears it: both are
-- updates that may also change the status.
CREATE OR REPLACE FUNCTION count_updated_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored, points_rejected)
  SELECT 0, n.pending - o.pending, n.errored - o.errored, n.rejected - o.rejected
  FROM (SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'errored') AS errored,
               coalesce(sum(points_rejected), 0) AS rejected FROM new_bundles) n,
       (SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'errored') AS errored,
               coalesce(sum(points_rejected), 0) AS rejected FROM old_bundles) o
  WHERE n.pending <> o.pending OR n.errored <> o.errored OR n.rejected <> o.rejected;
  RETURN NULL;
END
$$;

-- The rejections stored so far. The lock keeps every writer of bundles out until this migration
-- commits (other processes may be running), so none is counted twice or missed.
LOCK TABLE bundles IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO bundle_counts (received, pending, errored, points_rejected)
SELECT 0, 0, 0, coalesce(sum(points_rejected), 0) FROM bundles;
