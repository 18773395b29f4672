-- Bundle counts without count(*) (issue 22 §2, scale-out.md Q17/M7), and autovacuum settings for
-- the bundle queue (M9).
--
-- bundle_counts: the number of bundles (received), and of those pending and errored, is the SUM
-- of this table's rows. Every statement that inserts, updates or deletes bundles appends one row
-- with its change, through the statement-level triggers below and in the same transaction, so
-- the sums are exact whichever path writes bundles (uploads, the spool drain, processing,
-- failures, reprocess, erasure, retention, restore, imports, donations). Appending never touches
-- a shared row, so web processes inserting at once never wait for one another. The
-- bundle-counts fold (monitoring/bundle-counts.repository.ts) replaces the rows it can see by
-- their sum; a row committed meanwhile is folded next time.
CREATE TABLE bundle_counts (
  received  bigint NOT NULL,
  pending   bigint NOT NULL,
  errored   bigint NOT NULL
);

CREATE FUNCTION count_inserted_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored)
  SELECT count(*), count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'errored')
  FROM inserted_bundles HAVING count(*) > 0;
  RETURN NULL;
END
$$;

CREATE FUNCTION count_deleted_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored)
  SELECT -count(*), -count(*) FILTER (WHERE status = 'pending'), -count(*) FILTER (WHERE status = 'errored')
  FROM deleted_bundles HAVING count(*) > 0;
  RETURN NULL;
END
$$;

-- An update changes no total; only a change of status moves one between pending, processed and
-- errored. Most updates (a claim's attempt, erasure's sources) append nothing.
CREATE FUNCTION count_updated_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bundle_counts (received, pending, errored)
  SELECT 0, n.pending - o.pending, n.errored - o.errored
  FROM (SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'errored') AS errored FROM new_bundles) n,
       (SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'errored') AS errored FROM old_bundles) o
  WHERE n.pending <> o.pending OR n.errored <> o.errored;
  RETURN NULL;
END
$$;

CREATE FUNCTION count_truncated_bundles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM bundle_counts;
  RETURN NULL;
END
$$;

-- One call per statement (transition tables), not per row: processing marks a whole batch in one
-- UPDATE, erasure and retention delete many bundles in one DELETE. On a partitioned bundles
-- table these triggers belong on the partitioned (parent) table: its statement triggers see the
-- rows of every partition.
CREATE TRIGGER bundles_count_inserts AFTER INSERT ON bundles
  REFERENCING NEW TABLE AS inserted_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_bundles();
CREATE TRIGGER bundles_count_deletes AFTER DELETE ON bundles
  REFERENCING OLD TABLE AS deleted_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_deleted_bundles();
CREATE TRIGGER bundles_count_updates AFTER UPDATE ON bundles
  REFERENCING OLD TABLE AS old_bundles NEW TABLE AS new_bundles FOR EACH STATEMENT EXECUTE FUNCTION count_updated_bundles();
CREATE TRIGGER bundles_count_truncates AFTER TRUNCATE ON bundles
  FOR EACH STATEMENT EXECUTE FUNCTION count_truncated_bundles();

-- The bundles stored so far. CREATE TRIGGER above locks bundles against writes until this
-- migration commits, and this statement's snapshot sees every write committed before: none is
-- counted twice or missed.
INSERT INTO bundle_counts (received, pending, errored)
SELECT count(*), count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'errored') FROM bundles;

-- Autovacuum for the queue. bundles is the processing queue: every processed bundle leaves a dead
-- row and a dead entry in the partial index bundles_pending, and the dead-tuple count, not the
-- queue's depth, is what slows the SKIP LOCKED claim (scale-out.md §2a). PostgreSQL's defaults
-- wait for 20% of the table to be dead; these settings vacuum (and analyse) after 2%, and freeze
-- the append-mostly table early too. The list is here, once: apply_queue_autovacuum(table)
-- applies it to a table or, when bundles is partitioned, to each partition (a partitioned table
-- takes no autovacuum settings itself; new partitions must be given them).
CREATE FUNCTION apply_queue_autovacuum(queue regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02)', queue);
END
$$;

SELECT apply_queue_autovacuum('bundles');
