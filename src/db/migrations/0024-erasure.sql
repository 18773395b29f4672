-- Erasure of a withdrawn participant (issue 21 §4, docs/data-quality.md "Erasure"). An identifier
-- on this list is kept out: ingest stores nothing it sends (answered 2xx, so the client drops it)
-- and processing drops its points ('erased source') until the team re-admits it.
CREATE TABLE erased_sources (
  identifier  text PRIMARY KEY,
  erased_at   timestamptz NOT NULL DEFAULT now(),
  erased_by   text NOT NULL
);

-- The audit of erasures and re-admissions: who, when, whose, how many rows per table, the bundles
-- kept because other participants' points share them, and the backups written before, which still
-- hold the data. Never the data itself.
CREATE TABLE source_erasures (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  identifier      text NOT NULL,
  action          text NOT NULL CHECK (action IN ('erase', 'readmit')),
  done_by         text NOT NULL,
  done_at         timestamptz NOT NULL DEFAULT now(),
  -- table -> rows deleted (or updated, for the kept mixed bundles)
  counts          jsonb NOT NULL DEFAULT '{}',
  mixed_bundles   bigint[] NOT NULL DEFAULT '{}',
  -- [{name, finished_at, destinations}] of the backup runs written before the erasure
  backups_before  jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX source_erasures_identifier ON source_erasures (identifier, done_at);

