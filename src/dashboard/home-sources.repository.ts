/**
 * The home page's source table: one page of sources, filtered, grouped (groups by name, the
 * ungrouped last) and sorted within each group, so that a page costs about the same whether it is
 * the first of 100 sources or the middle of 10,000.
 *
 * Two statements. The first counts the sources of each group that match the filter: the total,
 * and where each group's run starts. The page's rows are then taken group by group, each group's
 * share ordered, skipped and limited on its own, from whichever end of the group is nearer; sorted
 * by identifier, name or latest point, that is a walk of an index (group_id, key, source)
 * (migration 0012). Only the page's rows are read whole. Sorting every source on every request,
 * as before, cost 5-15 ms of PostgreSQL a page at 10,000 sources (BENCHMARKS.md, issue 17). The
 * statistics columns are kept by the source-statistics job, latest_point_created and
 * latest_user_agent by processing, data_quality_flags by the data-quality job; nothing here reads
 * data_points.
 */
import type { Pool, PoolClient } from '../db/database.ts';
import { alertRank } from './sources.repository.ts';
import { SOURCE_WHOLLY_EXCLUDED } from '../data-quality/exclusion-sql.ts';

type Db = Pool | PoolClient;

/**
 * The sort keys of the home page (query `sort`) and the expression each orders by; for id, name
 * and latest the expressions of the indexes of migration 0012, or the indexes go unused.
 */
export const SOURCE_SORTS = {
  id: 's.source',
  name: 'coalesce(s.name, s.source)',
  latest: 's.latest_point_created',
  upload: 's.last_upload_at',
  points: 's.window_points',
  frequency: 's.frequency_hz',
  agent: 's.latest_user_agent',
} as const;
export type SourceSort = keyof typeof SOURCE_SORTS;

export interface SourceFilter {
  /** substring of the identifier or name ('' for all) */
  search: string;
  /** 'all', 'none' (ungrouped) or a group id */
  group: 'all' | 'none' | number;
  includeRemoved: boolean;
  /** only sources with this data-quality flag raised ('any': with any flag); undefined: all */
  flag?: string;
}

export interface SourceListOptions extends SourceFilter {
  sort: SourceSort;
  descending: boolean;
  page: number;
  pageSize: number;
}

export interface SourceRow {
  source: string;
  name: string | null;
  groupId: number | null;
  groupName: string | null;
  latestPointCreated: Date | null;
  lastUploadAt: Date | null;
  windowPoints: number;
  pointCount: number;
  frequencyHz: number | null;
  userAgent: string | null;
  /** points per day, oldest first, for the 14 days ending statsDay */
  dailyPoints: number[] | null;
  statsDay: string | null;
  suppressAlerts: boolean;
  groupSuppressAlerts: boolean;
  removedAt: Date | null;
  activeAlerts: number;
  /** the highest level among the active alerts */
  alertLevel: string | null;
  /** the kinds of its raised data-quality flags */
  flags: string[];
  /** an exclusion rule takes out all of its points (exports, statistics, alerts) */
  excluded: boolean;
}

/** `%` and `_` match themselves in a search. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The filter's conditions on data_sources `s` (parameters appended to `params`), without the group. */
function filterConditions(filter: SourceFilter, params: unknown[]): string[] {
  const where: string[] = [];
  if (!filter.includeRemoved) where.push('s.removed_at IS NULL');
  if (filter.search) {
    params.push(likePattern(filter.search));
    where.push(`(s.source ILIKE $${params.length} OR s.name ILIKE $${params.length})`);
  }
  if (filter.flag) {
    // a probe of data_quality_flags' primary key (source, kind) per source
    const kind = filter.flag === 'any' ? '' : ` AND f.kind = $${params.push(filter.flag)}`;
    where.push(`EXISTS (SELECT 1 FROM data_quality_flags f WHERE f.source = s.source AND f.raised_at IS NOT NULL AND f.cleared_at IS NULL${kind})`);
  }
  return where;
}

function groupCondition(group: number | null, params: unknown[]): string {
  if (group === null) return 's.group_id IS NULL';
  params.push(group);
  return `s.group_id = $${params.length}`;
}

/**
 * The order within a group: ascending puts missing values (never uploaded, no statistics yet)
 * first, and a descending sort is the ascending one reversed, ties included, so one index serves
 * both directions.
 */
function orderBy(sort: SourceSort, descending: boolean): string {
  if (sort === 'id') return descending ? 's.source DESC' : 's.source';
  const key = SOURCE_SORTS[sort];
  return descending ? `${key} DESC NULLS LAST, s.source DESC` : `${key} ASC NULLS FIRST, s.source`;
}

/** A group's run of matching sources, in page order. */
interface GroupRun {
  group: number | null;
  sources: number;
}

/** How many sources of each group match the filter, groups in the order the page shows them. */
async function countByGroup(db: Db, filter: SourceFilter): Promise<GroupRun[]> {
  const params: unknown[] = [];
  const where = filterConditions(filter, params);
  if (filter.group !== 'all') where.push(groupCondition(filter.group === 'none' ? null : filter.group, params));
  // Groups by name, case-insensitively, as listGroups orders them (the table and the menus agree).
  const { rows } = await db.query(
    `SELECT c.group_id, c.sources FROM (
       SELECT s.group_id, count(*)::int AS sources FROM data_sources s ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY s.group_id
     ) c LEFT JOIN source_groups g ON g.id = c.group_id
     ORDER BY c.group_id IS NULL, lower(g.name), g.id`,
    params,
  );
  return rows.map((r) => ({ group: r.group_id === null ? null : Number(r.group_id), sources: r.sources }));
}

/** One group's share of the page: `take` sources after skipping `skip`, walked forwards or backwards. */
interface PagePart {
  group: number | null;
  skip: number;
  take: number;
  reversed: boolean;
}

/** Which groups the rows [offset, offset + size) fall in, and where in each. */
function pageParts(runs: readonly GroupRun[], offset: number, size: number): PagePart[] {
  const parts: PagePart[] = [];
  let start = 0;
  for (const run of runs) {
    const from = Math.max(offset, start);
    const to = Math.min(offset + size, start + run.sources);
    if (from < to) {
      const skip = from - start;
      const take = to - from;
      const skipFromEnd = run.sources - skip - take;
      // An index walk costs what it skips: the last page of a group is read from its end.
      parts.push(skipFromEnd < skip ? { group: run.group, skip: skipFromEnd, take, reversed: true } : { group: run.group, skip, take, reversed: false });
    }
    start += run.sources;
  }
  return parts;
}

/** One page of sources, grouped (groups by name, ungrouped last), sorted within each group. */
export async function listSourcesPage(db: Db, options: SourceListOptions): Promise<{ rows: SourceRow[]; total: number }> {
  const runs = await countByGroup(db, options);
  const total = runs.reduce((sum, run) => sum + run.sources, 0);
  const parts = pageParts(runs, (options.page - 1) * options.pageSize, options.pageSize);
  if (parts.length === 0) return { total, rows: [] };
  const params: unknown[] = [];
  const selects = parts.map((part, i) => {
    const where = [...filterConditions(options, params), groupCondition(part.group, params)];
    params.push(part.take, part.skip);
    const descending = options.descending !== part.reversed;
    // group_id first, though it is the same for the whole part: `group_id IS NULL` does not make it
    // a constant for the planner as `group_id = 7` does, and without it the ungrouped sources were
    // scanned and sorted instead of walked (22 ms instead of 1 at 10,000).
    return `(SELECT ${i} AS part, s.source FROM data_sources s WHERE ${where.join(' AND ')}
             ORDER BY s.group_id${descending ? ' DESC' : ''}, ${orderBy(options.sort, descending)} LIMIT $${params.length - 1} OFFSET $${params.length})`;
  });
  const { rows } = await db.query(
    `WITH page AS (${selects.join(' UNION ALL ')})
     SELECT s.source, s.name, s.group_id, g.name AS group_name, s.latest_point_created, s.last_upload_at,
            s.window_points, s.point_count, s.frequency_hz, s.latest_user_agent, s.daily_points, s.stats_day::text,
            s.suppress_alerts, coalesce(g.suppress_alerts, false) AS group_suppress_alerts, s.removed_at,
            a.active_alerts, CASE a.rank WHEN 3 THEN 'critical' WHEN 2 THEN 'warning' WHEN 1 THEN 'info' END AS alert_level,
            ARRAY(SELECT f.kind FROM data_quality_flags f WHERE f.source = s.source AND f.raised_at IS NOT NULL AND f.cleared_at IS NULL ORDER BY f.kind) AS flags,
            ${SOURCE_WHOLLY_EXCLUDED} AS excluded
     FROM page JOIN data_sources s ON s.source = page.source LEFT JOIN source_groups g ON g.id = s.group_id
     -- An aggregate, not ORDER BY rank LIMIT 1: that ordering made the planner walk
     -- alerts_active_order through every active alert once per row (0.5 s a page).
     CROSS JOIN LATERAL (SELECT count(*)::int AS active_alerts, max(${alertRank('a.level')}) AS rank
                         FROM alerts a WHERE a.source = s.source AND a.active) a
     ORDER BY page.part, ${orderBy(options.sort, options.descending)}`,
    params,
  );
  return {
    total,
    rows: rows.map((r) => ({
      source: r.source,
      name: r.name,
      groupId: r.group_id === null ? null : Number(r.group_id),
      groupName: r.group_name,
      latestPointCreated: r.latest_point_created,
      lastUploadAt: r.last_upload_at,
      windowPoints: Number(r.window_points),
      pointCount: Number(r.point_count),
      frequencyHz: r.frequency_hz,
      userAgent: r.latest_user_agent,
      dailyPoints: r.daily_points,
      statsDay: r.stats_day,
      suppressAlerts: r.suppress_alerts,
      groupSuppressAlerts: r.group_suppress_alerts,
      removedAt: r.removed_at,
      activeAlerts: r.active_alerts,
      alertLevel: r.alert_level,
      flags: r.flags,
      excluded: r.excluded,
    })),
  };
}
