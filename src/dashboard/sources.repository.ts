/**
 * Sources as the study team manages them (table data_sources: name, group, suppression, removal)
 * and the home page's list: one indexed page of at most PAGE_SIZE rows, filtered, grouped and
 * sorted in PostgreSQL, so it costs the same with 100 sources or 10,000. The statistics columns
 * are kept by the source-statistics job; nothing here reads data_points.
 */
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

/** Alert levels as numbers (critical highest); with `level`, the expression of index alerts_active_order. */
const alertRank = (level = 'level') => `(CASE ${level} WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END)`;

/** The sort keys of the home page (query `sort`) and the column each orders by. */
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
}

/** `%` and `_` match themselves in a search. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filterSql(filter: SourceFilter, params: unknown[]): string {
  const where: string[] = [];
  if (!filter.includeRemoved) where.push('s.removed_at IS NULL');
  if (filter.search) {
    params.push(likePattern(filter.search));
    where.push(`(s.source ILIKE $${params.length} OR s.name ILIKE $${params.length})`);
  }
  if (filter.group === 'none') where.push('s.group_id IS NULL');
  else if (typeof filter.group === 'number') {
    params.push(filter.group);
    where.push(`s.group_id = $${params.length}`);
  }
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** One page of sources, grouped (groups by name, ungrouped last), sorted within each group. */
export async function listSourcesPage(db: Db, options: SourceListOptions): Promise<{ rows: SourceRow[]; total: number }> {
  const params: unknown[] = [];
  const where = filterSql(options, params);
  const column = SOURCE_SORTS[options.sort];
  // Missing values (never uploaded, no statistics yet) come first when ascending, last when
  // descending: a source that never sent anything sorts as the oldest.
  const order = options.descending ? `${column} DESC NULLS LAST` : `${column} ASC NULLS FIRST`;
  params.push(options.pageSize, (options.page - 1) * options.pageSize);
  // Only the sort keys are sorted (a sort of the wide rows, strips and all, spilled to disk at
  // 10,000 sources), groups by a rank over the few groups, in the order listGroups gives them
  // (case-insensitive, so the table and the group menus agree); the page's rows are read after.
  const { rows } = await db.query(
    `WITH group_rank AS (SELECT id, row_number() OVER (ORDER BY lower(name), id) AS rank FROM source_groups),
     page AS (
       SELECT s.source, row_number() OVER () AS position
       FROM (SELECT s.source FROM data_sources s LEFT JOIN group_rank g ON g.id = s.group_id
             ${where}
             ORDER BY g.rank NULLS LAST, ${order}, s.source
             LIMIT $${params.length - 1} OFFSET $${params.length}) s
     )
     SELECT s.source, s.name, s.group_id, g.name AS group_name, s.latest_point_created, s.last_upload_at,
            s.window_points, s.point_count, s.frequency_hz, s.latest_user_agent, s.daily_points, s.stats_day::text,
            s.suppress_alerts, coalesce(g.suppress_alerts, false) AS group_suppress_alerts, s.removed_at,
            a.active_alerts, CASE a.rank WHEN 3 THEN 'critical' WHEN 2 THEN 'warning' WHEN 1 THEN 'info' END AS alert_level
     FROM page JOIN data_sources s ON s.source = page.source LEFT JOIN source_groups g ON g.id = s.group_id
     -- An aggregate, not ORDER BY rank LIMIT 1: that ordering made the planner walk
     -- alerts_active_order through every active alert once per row (0.5 s a page).
     CROSS JOIN LATERAL (SELECT count(*)::int AS active_alerts, max(${alertRank('a.level')}) AS rank
                         FROM alerts a WHERE a.source = s.source AND a.active) a
     ORDER BY page.position`,
    params,
  );
  const countParams: unknown[] = [];
  const { rows: [{ total }] } = await db.query(`SELECT count(*)::int AS total FROM data_sources s ${filterSql(options, countParams)}`, countParams);
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
    })),
  };
}

export interface HomeAlert {
  id: number;
  source: string;
  sourceName: string | null;
  checkId: string;
  name: string;
  level: 'info' | 'warning' | 'critical';
  message: string;
  created: Date;
  updated: Date;
}

/** Active alerts, critical first then oldest first, at most `limit`; and how many there are. */
export async function listActiveAlertsForHome(db: Db, limit: number): Promise<{ alerts: HomeAlert[]; total: number; critical: number; warning: number }> {
  // The top alerts come off the index alerts_active_order; only those are joined to their names.
  const { rows } = await db.query(
    `SELECT a.id, a.source, s.name AS source_name, a.check_id, a.name, a.level, a.details ->> 'message' AS message, a.created, a.updated
     FROM (SELECT * FROM alerts WHERE active ORDER BY ${alertRank()} DESC, created, id LIMIT $1) a
     JOIN data_sources s ON s.source = a.source
     ORDER BY ${alertRank('a.level')} DESC, a.created, a.id`,
    [limit],
  );
  const { rows: [counts] } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE level = 'critical')::int AS critical,
            count(*) FILTER (WHERE level = 'warning')::int AS warning
     FROM alerts WHERE active`,
  );
  return {
    ...counts,
    alerts: rows.map((r) => ({
      id: Number(r.id), source: r.source, sourceName: r.source_name, checkId: r.check_id, name: r.name,
      level: r.level, message: r.message ?? '', created: r.created, updated: r.updated,
    })),
  };
}

export async function sourceExists(db: Db, source: string): Promise<{ removed: boolean } | undefined> {
  const { rows } = await db.query('SELECT removed_at FROM data_sources WHERE source = $1', [source]);
  return rows[0] ? { removed: rows[0].removed_at !== null } : undefined;
}

/** The source whose name this is, if any (names are unique). */
export async function sourceNamed(db: Db, name: string): Promise<string | undefined> {
  const { rows } = await db.query('SELECT source FROM data_sources WHERE name = $1', [name]);
  return rows[0]?.source;
}

/** Registers a source before it uploads anything (or brings a removed one back). */
export async function addSource(db: Db, source: string, name: string | null, groupId: number | null): Promise<void> {
  await db.query(
    `INSERT INTO data_sources (source, first_seen, name, group_id) VALUES ($1, now(), $2, $3)
     ON CONFLICT (source) DO UPDATE SET name = excluded.name, group_id = excluded.group_id, removed_at = NULL`,
    [source, name, groupId],
  );
}

/** Sets the name (null: show the identifier). Returns false for an unknown source. */
export async function renameSource(db: Db, source: string, name: string | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE data_sources SET name = $2 WHERE source = $1', [source, name]);
  return (rowCount ?? 0) > 0;
}

export async function moveSource(db: Db, source: string, groupId: number | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE data_sources SET group_id = $2 WHERE source = $1', [source, groupId]);
  return (rowCount ?? 0) > 0;
}

/**
 * Removes a source from the dashboard and the status checks, or brings it back. Its data stays
 * (exports still include it), and it stays removed if it uploads again.
 */
export async function setSourceRemoved(db: Db, source: string, removed: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE data_sources SET removed_at = CASE WHEN $2 THEN coalesce(removed_at, now()) END WHERE source = $1`,
    [source, removed],
  );
  return (rowCount ?? 0) > 0;
}

export async function setSourceSuppressed(db: Db, source: string, suppress: boolean): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE data_sources SET suppress_alerts = $2 WHERE source = $1', [source, suppress]);
  return (rowCount ?? 0) > 0;
}

/**
 * Closes the active alerts of sources that no longer get alerts (removed or suppressed, directly
 * or through their group) at once, rather than at the next status-checks run, so the page shows
 * the effect of the action. Returns how many were closed.
 */
export async function closeAlertsOfQuietSources(db: Db, sources: readonly string[] | 'all'): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE alerts a SET active = false, updated = now()
     FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
     WHERE a.active AND a.source = s.source AND ($1::text[] IS NULL OR s.source = ANY ($1::text[]))
       AND (s.removed_at IS NOT NULL OR s.suppress_alerts OR coalesce(g.suppress_alerts, false))`,
    [sources === 'all' ? null : sources],
  );
  return rowCount ?? 0;
}

export interface SourceListEntry {
  source: string;
  name: string | null;
  group: string | null;
}

/** Every source not removed, for the TSV download. */
export async function listSourcesForTsv(db: Db): Promise<SourceListEntry[]> {
  const { rows } = await db.query(
    `SELECT s.source, s.name, g.name AS group FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
     WHERE s.removed_at IS NULL ORDER BY g.name IS NULL, g.name, s.source`,
  );
  return rows;
}
