-- The home page's source table reads a page off one of these indexes when it is sorted by
-- identifier (the default), name or latest point (src/dashboard/home-sources.repository.ts,
-- whose SOURCE_SORTS must use the same expressions): a walk of one group's entries in the key's
-- order, forwards for ascending and backwards for descending, instead of sorting every source on
-- every request (5-15 ms of PostgreSQL a page at 10,000 sources; BENCHMARKS.md, issue 17). Only
-- sources on the dashboard (not removed). The other sorts sort one group's sources at a time.
--
-- Each index costs every update of a source's row that is not HOT, and indexing
-- latest_point_created makes processing's updates (a few rows per batch) not HOT: +22 us a row
-- with these three, +47 us with one for every sort, which is why the other sorts have none.
CREATE INDEX data_sources_by_id ON data_sources (group_id, source) WHERE removed_at IS NULL;
CREATE INDEX data_sources_by_name ON data_sources (group_id, coalesce(name, source) NULLS FIRST, source) WHERE removed_at IS NULL;
CREATE INDEX data_sources_by_latest ON data_sources (group_id, latest_point_created NULLS FIRST, source) WHERE removed_at IS NULL;

-- Processing and the statistics job rewrite these rows all day. Vacuumed after 2% of them changed
-- rather than 20%, the table stays small and its visibility map current, so counting the sources
-- of each group (the home page, the groups panel) reads data_sources_by_id alone.
ALTER TABLE data_sources SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- The home page's alert counts by level, on every request: from this index alone rather than the
-- alerts table (a study with 10,000 silent sources has as many active alerts).
CREATE INDEX alerts_active_level ON alerts (level) WHERE active;
