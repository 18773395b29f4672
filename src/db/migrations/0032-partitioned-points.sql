-- data_points becomes range-partitioned by `created` (client time), one partition per calendar
-- month in UTC (issue 22 M1, docs/partitions.md). The unique key (created, content_digest)
-- already holds the partition key, so it stays as it is.
--
-- Existing rows are not rewritten: the table is renamed data_points_history and attached as the
-- partition FROM (MINVALUE) TO (the first day of next month). Its indexes are attached to the
-- new parent's partitioned indexes (PostgreSQL finds the matching ones), not rebuilt. A CHECK
-- constraint proves the bound first (one scan), so ATTACH needs no second scan under its lock.
-- Rows dated past that bound (client clocks in the future) are moved into the parent, which
-- routes them to the DEFAULT partition; their number is the migration's NOTICE.
--
-- Beyond the premade months (src/db/partitions.ts makes them from the current month to 12
-- ahead, driven by the clock, right after the migrations) points land in data_points_default.
-- A DEFAULT partition rather than a rolling [horizon, MAXVALUE) catch-all: both must be emptied of
-- a month's rows before that month's partition can exist (pg_partman #707), but the rolling one
-- also has to be detached and re-created every month, a second piece of DDL that can fail
-- halfway; the cost of DEFAULT is that ORDER BY created cannot use an ordered Append (a
-- MergeAppend of one index probe per partition, ~40 for 3 years), which the paged queries
-- already accept. Points dated before the first month (late or wrong clocks) land in the
-- history partition, which has no lower bound, so DEFAULT only ever holds future dates: any row
-- in it is worth an operator's look.
--
-- The conversion needs migration 0009's digest step to be finished (it walks the plain table's
-- heap by block): when it is not, this migration only installs the function, and
-- src/db/point-digests.ts calls it in the digest step's last transaction.

-- Converts the plain table `parent` into one partitioned by range of `key_column` (monthly,
-- UTC), keeping the old table as `<parent>_history` (see above). Returns the number of rows
-- moved out of it because they lay past the bound. The parent keeps every index, unique and
-- CHECK constraint, default, storage and compression setting and the identity of the old table.
-- `data_points_source` of the old table becomes `data_points_history_source`, and so on.
CREATE FUNCTION dcs_partition_name(history text, parent text, name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT left(history || '_' || CASE WHEN starts_with(name, parent || '_') THEN substr(name, length(parent) + 2) ELSE name END, 63)
$$;

CREATE FUNCTION dcs_partition_by_month(parent text, key_column text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  history text := parent || '_history';
  bound timestamptz := date_trunc('month', now(), 'UTC') + interval '1 month';
  index_defs text[];
  constraint_defs text[];
  def text;
  item record;
  identity_column text;
  identity_kind "char";
  identity_last bigint;
  identity_called boolean;
  moved bigint;
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = parent::regclass) = 'p' THEN
    RETURN 0;
  END IF;
  -- What this conversion does not carry over must not exist, rather than be lost silently (a
  -- later migration that adds one of them extends this function).
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = parent::regclass AND NOT tgisinternal)
    OR EXISTS (SELECT 1 FROM pg_constraint WHERE (conrelid = parent::regclass AND contype NOT IN ('u', 'p', 'c')) OR confrelid = parent::regclass)
    OR EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.refobjid = parent::regclass AND d.classid = 'pg_rewrite'::regclass)
    OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = parent::regclass)
  THEN
    RAISE EXCEPTION '%: has triggers, foreign keys, views or policies, which dcs_partition_by_month does not carry over', parent;
  END IF;
  -- What the parent must have, read while the names are still the old table's.
  SELECT array_agg(pg_get_indexdef(i.indexrelid)) INTO index_defs
  FROM pg_index i
  WHERE i.indrelid = parent::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
  SELECT array_agg(format('ALTER TABLE %I ADD CONSTRAINT %I %s', parent, conname, pg_get_constraintdef(oid)) ORDER BY conname)
  INTO constraint_defs
  FROM pg_constraint WHERE conrelid = parent::regclass AND contype IN ('u', 'p', 'c');
  SELECT attname, attidentity INTO identity_column, identity_kind
  FROM pg_attribute WHERE attrelid = parent::regclass AND attidentity <> '' AND NOT attisdropped;

  -- The old table and its index and constraint names move aside.
  FOR item IN
    SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = parent::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
  LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', item.name, dcs_partition_name(history, parent, item.name));
  END LOOP;
  -- (CHECK constraints keep their names: ATTACH matches them by name, and they are per table.)
  FOR item IN SELECT conname FROM pg_constraint WHERE conrelid = parent::regclass AND contype IN ('u', 'p') LOOP
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', parent, item.conname,
      dcs_partition_name(history, parent, item.conname));
  END LOOP;
  IF identity_column IS NOT NULL THEN
    -- The sequence's state as it is (the PDK API's `latest` reads its last value).
    EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence(parent, identity_column)) INTO identity_last, identity_called;
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I DROP IDENTITY', parent, identity_column);
  END IF;
  EXECUTE format('ALTER TABLE %I RENAME TO %I', parent, history);

  -- The partitioned parent, its keys and indexes, and the DEFAULT partition.
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED INCLUDING COMMENTS)'
    || ' PARTITION BY RANGE (%I)', parent, history, key_column);
  IF identity_column IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I ADD GENERATED %s AS IDENTITY', parent, identity_column,
      CASE identity_kind WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END);
    PERFORM setval(pg_get_serial_sequence(parent, identity_column), identity_last, identity_called);
  END IF;
  FOREACH def IN ARRAY coalesce(constraint_defs, '{}') LOOP
    EXECUTE def;
  END LOOP;
  FOREACH def IN ARRAY coalesce(index_defs, '{}') LOOP
    EXECUTE def;
  END LOOP;
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', parent || '_default', parent);

  -- Future-dated rows go through the parent (to DEFAULT), then the bound is proven and attached.
  EXECUTE format('WITH gone AS (DELETE FROM %I WHERE %I >= %L RETURNING *) INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM gone',
    history, key_column, bound, parent);
  GET DIAGNOSTICS moved = ROW_COUNT;
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I < %L)', history, history || '_bound', key_column, bound);
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', parent, history, bound);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', history, history || '_bound');
  RAISE NOTICE '%: partitioned by month of %; the rows before % kept in place as %, % dated later moved to %_default',
    parent, key_column, bound, history, moved, parent;
  RETURN moved;
END
$$;

DO $$
BEGIN
  IF (SELECT finished_at IS NOT NULL FROM point_digest_backfill) THEN
    PERFORM dcs_partition_by_month('data_points', 'created');
  ELSE
    RAISE NOTICE 'data_points: partitioning waits for the content digests (migration 0009) to be complete';
  END IF;
END
$$;
