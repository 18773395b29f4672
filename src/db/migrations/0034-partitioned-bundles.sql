-- bundles becomes range-partitioned by `received_at` (the server's time of arrival), one partition
-- per calendar month in UTC, the same months as data_points (issue 22 M1, docs/partitions.md), so
-- one maintenance path (src/db/partitions.ts) premakes both.
--
-- Existing bundles are not rewritten: the table is renamed bundles_history and attached as the
-- partition FROM (MINVALUE) TO (the first day of next month). A CHECK constraint proves the bound
-- first (one scan), so ATTACH needs no second scan under its lock. Indexes whose definition does
-- not change are attached to the parent's partitioned indexes, not rebuilt; the three whose keys
-- must change are built on the old table before (one read of its heap each; the bodies, stored
-- out of line, are not read):
-- - the primary key becomes (received_at, id): a unique key of a partitioned table must hold its
--   partition key. Ids still come from one identity sequence, so they stay unique in practice;
-- - the receipt key becomes (received_at, receipt): equivalent, because the one path that inserts
--   an upload again, the spool, replays its original arrival time (spool-file.ts keeps
--   `receivedAt`; restore and import take it from what they read, the same each run);
-- - a plain index on (id) replaces bundles_received (which the new primary key makes redundant):
--   a data point names its bundle by id only (data_points.bundle_id), so the lookups from a point
--   to its bundle probe each partition's (id) index instead of reading every partition. Lookups
--   that know the bundle's received_at (processing, backup, erasure, retention) read one partition.
--
-- No DEFAULT partition, unlike data_points: received_at is this server's clock, never a
-- client's, and the months are premade 12 ahead by the same clock that stamps uploads, so no
-- upload lacks a partition; a bundle that did (a server clock more than a year ahead) would fail
-- its insert and wait in the spool, not be lost. Without DEFAULT, old months can later be detached
-- CONCURRENTLY (PostgreSQL refuses that while a DEFAULT exists) and nothing has to move rows out of
-- DEFAULT. Bundles already dated past next month (a clock that was ahead) stay in the history
-- partition, whose bound then reaches their month; dates more than a year ahead stop the
-- migration with a message instead of making a history partition that covers years to come.
--
-- What refers to a bundle carries its received_at from now on, so that it names one partition:
-- - bundle_files.bundle_received_at (filled here from bundles: this UPDATE writes every
--   attachment row's tuple again; contents large enough to be stored out of line are not
--   copied), with the foreign key (bundle_received_at, bundle_id) -> bundles (received_at, id).
--   Measured: this whole migration on 100,000 bundles with 100,000 attachment rows took 2.2 s
--   (1.8 s of PostgreSQL CPU) with 4 KB attachments, 2.6 s (2.3 s CPU) with 1 KB ones kept inline
--   (112 MB of heap rewritten), on 2 cores at load average 4-5;
--   data_point_files still refers to bundle_files (id), which is not partitioned;
-- - backup_queue.bundle_received_at, filled by the trigger that queues each new bundle.
--
-- The statement-level triggers (0017: backup queue; 0031: bundle counters) move to the partitioned
-- parent: statement triggers with transition tables are allowed there (only ROW triggers with
-- transition tables are refused on partitioned tables and partitions, PostgreSQL 11 to 17), and a
-- statement on the parent fires them once with the rows of every partition it touched.

-- Attachments: their bundle's received_at, for the composite foreign key added at the end.
ALTER TABLE bundle_files DROP CONSTRAINT bundle_files_bundle_id_fkey;
ALTER TABLE bundle_files ADD COLUMN bundle_received_at timestamptz;
UPDATE bundle_files f SET bundle_received_at = b.received_at FROM bundles b WHERE b.id = f.bundle_id;
ALTER TABLE bundle_files ALTER COLUMN bundle_received_at SET NOT NULL;

-- The backup queue: the same, for rows already queued (a queued id whose bundle is gone would
-- have been dropped from the queue by the next backup anyway).
ALTER TABLE backup_queue ADD COLUMN bundle_received_at timestamptz;
UPDATE backup_queue q SET bundle_received_at = b.received_at FROM bundles b WHERE b.id = q.bundle_id;
DELETE FROM backup_queue WHERE bundle_received_at IS NULL;
ALTER TABLE backup_queue ALTER COLUMN bundle_received_at SET NOT NULL;

-- A queued id already queued (ids restarted by hand, after a TRUNCATE) now names the new bundle:
-- the queue finds bundles by (received_at, id). Never let the queue fail an insert into bundles.
CREATE OR REPLACE FUNCTION queue_bundle_backup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO backup_queue (bundle_id, bundle_received_at) SELECT DISTINCT ON (id) id, received_at FROM new_bundles
  ON CONFLICT (bundle_id) DO UPDATE SET bundle_received_at = excluded.bundle_received_at;
  RETURN NULL;
END
$$;

-- The triggers are made again on the parent below.
DROP TRIGGER bundles_queue_backup ON bundles;
DROP TRIGGER bundles_count_inserts ON bundles;
DROP TRIGGER bundles_count_deletes ON bundles;
DROP TRIGGER bundles_count_updates ON bundles;
DROP TRIGGER bundles_count_truncates ON bundles;

-- The keys the parent needs, built on the old table (ATTACH then finds them).
ALTER TABLE bundles DROP CONSTRAINT bundles_pkey;
ALTER TABLE bundles ADD CONSTRAINT bundles_pkey PRIMARY KEY (received_at, id);
DROP INDEX bundles_receipt;
CREATE UNIQUE INDEX bundles_receipt ON bundles (received_at, receipt);
DROP INDEX bundles_received;
CREATE INDEX bundles_id ON bundles (id);

-- The conversion, as migration 0032 did it for data_points (dcs_partition_by_month, which refuses a
-- table with triggers and foreign keys and always makes a DEFAULT partition).
DO $$
DECLARE
  -- The first day of next month, or of the month after the latest bundle's if a server clock was
  -- ahead (max(received_at): one probe of the new primary key).
  bound timestamptz := date_trunc('month', now(), 'UTC') + interval '1 month';
  latest timestamptz := (SELECT max(received_at) FROM bundles);
  index_defs text[];
  constraint_defs text[];
  def text;
  item record;
  identity_last bigint;
  identity_called boolean;
  files bigint;
BEGIN
  IF latest >= date_trunc('month', now(), 'UTC') + interval '13 months' THEN
    RAISE EXCEPTION 'bundles: % bundle(s) received after % (a server clock set ahead?), the latest at %; correct their received_at (UPDATE bundles SET received_at = ...) and start the server again',
      (SELECT count(*) FROM bundles WHERE received_at >= bound), bound, latest;
  ELSIF latest >= bound THEN
    bound := date_trunc('month', latest, 'UTC') + interval '1 month';
  END IF;

  SELECT array_agg(pg_get_indexdef(i.indexrelid)) INTO index_defs
  FROM pg_index i
  WHERE i.indrelid = 'bundles'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
  SELECT array_agg(format('ALTER TABLE bundles ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) ORDER BY conname)
  INTO constraint_defs
  FROM pg_constraint WHERE conrelid = 'bundles'::regclass AND contype IN ('u', 'p', 'c');

  -- The old table and its index and key names move aside (CHECK constraints keep theirs: ATTACH
  -- matches them by name).
  FOR item IN
    SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'bundles'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
  LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', item.name, dcs_partition_name('bundles_history', 'bundles', item.name));
  END LOOP;
  FOR item IN SELECT conname FROM pg_constraint WHERE conrelid = 'bundles'::regclass AND contype IN ('u', 'p') LOOP
    EXECUTE format('ALTER TABLE bundles RENAME CONSTRAINT %I TO %I', item.conname, dcs_partition_name('bundles_history', 'bundles', item.conname));
  END LOOP;
  -- The identity sequence's state as it is: ids go on from there.
  EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence('bundles', 'id')) INTO identity_last, identity_called;
  ALTER TABLE bundles ALTER COLUMN id DROP IDENTITY;
  ALTER TABLE bundles RENAME TO bundles_history;

  CREATE TABLE bundles (LIKE bundles_history INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED INCLUDING COMMENTS)
    PARTITION BY RANGE (received_at);
  ALTER TABLE bundles ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
  PERFORM setval(pg_get_serial_sequence('bundles', 'id'), identity_last, identity_called);
  FOREACH def IN ARRAY constraint_defs LOOP
    EXECUTE def;
  END LOOP;
  FOREACH def IN ARRAY index_defs LOOP
    EXECUTE def;
  END LOOP;

  EXECUTE format('ALTER TABLE bundles_history ADD CONSTRAINT bundles_history_bound CHECK (received_at < %L)', bound);
  EXECUTE format('ALTER TABLE bundles ATTACH PARTITION bundles_history FOR VALUES FROM (MINVALUE) TO (%L)', bound);
  ALTER TABLE bundles_history DROP CONSTRAINT bundles_history_bound;
  SELECT count(*) INTO files FROM bundle_files;
  RAISE NOTICE 'bundles: partitioned by month of received_at; the bundles before % kept in place as bundles_history; % attachment row(s) given their bundle''s received_at',
    bound, files;
END
$$;

-- ON UPDATE CASCADE: received_at never changes, but a bundle's time corrected by hand (which moves
-- it to another partition) takes its files along.
ALTER TABLE bundle_files ADD CONSTRAINT bundle_files_bundle_fkey
  FOREIGN KEY (bundle_received_at, bundle_id) REFERENCES bundles (received_at, id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TRIGGER bundles_queue_backup AFTER INSERT ON bundles
  REFERENCING NEW TABLE AS new_bundles FOR EACH STATEMENT EXECUTE FUNCTION queue_bundle_backup();
CREATE TRIGGER bundles_count_inserts AFTER INSERT ON bundles
  REFERENCING NEW TABLE AS inserted_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_bundles();
CREATE TRIGGER bundles_count_deletes AFTER DELETE ON bundles
  REFERENCING OLD TABLE AS deleted_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_deleted_bundles();
CREATE TRIGGER bundles_count_updates AFTER UPDATE ON bundles
  REFERENCING OLD TABLE AS old_bundles NEW TABLE AS new_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_updated_bundles();
CREATE TRIGGER bundles_count_truncates AFTER TRUNCATE ON bundles
  FOR EACH STATEMENT EXECUTE FUNCTION count_truncated_bundles();

-- The queue's autovacuum settings (0031) on each partition: a partitioned table takes none itself.
-- The history partition has them already (it is the old table); the months premade later take the
-- storage parameters of the newest partition (src/db/partitions.ts), so they have them too, and
-- running this again applies a changed list to every partition.
CREATE OR REPLACE FUNCTION apply_queue_autovacuum(queue regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT relid FROM pg_partition_tree(queue) WHERE isleaf LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02)', part);
  END LOOP;
END
$$;

SELECT apply_queue_autovacuum('bundles');
