-- Bundles not yet in a backup (issue 19). A bundle is queued by the statement that inserts it,
-- whichever path inserts it (an upload, the spool drain after an outage, a restore, an import), so
-- a backup never skips one: a cursor over bundles.id could, since a transaction that took a lower
-- id can commit after the backup has read past it. The backup job deletes a bundle's row only once
-- a verified file holds it; a run that fails leaves the queue as it was (it is then retried).
CREATE TABLE backup_queue (
  bundle_id  bigint PRIMARY KEY,
  queued_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION queue_bundle_backup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A queued id is queued: never let the queue fail an insert into bundles (ids restarted by hand).
  INSERT INTO backup_queue (bundle_id) SELECT id FROM new_bundles ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

-- One statement-level trigger per INSERT (a transition table), not one call per row: processing's
-- and the spool's multi-row inserts stay one statement.
CREATE TRIGGER bundles_queue_backup AFTER INSERT ON bundles
  REFERENCING NEW TABLE AS new_bundles FOR EACH STATEMENT EXECUTE FUNCTION queue_bundle_backup();

-- Every bundle already stored is in no backup yet.
INSERT INTO backup_queue (bundle_id) SELECT id FROM bundles;
