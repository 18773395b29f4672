/**
 * Sources as the study team manages them (table data_sources: name, group, suppression, removal)
 * and the home page's alerts. The home page's source table is home-sources.repository.ts.
 */
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

/** Alert levels as numbers (critical highest); with `level`, the expression of index alerts_active_order. */
export const alertRank = (level = 'level') => `(CASE ${level} WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END)`;

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
  // Counted off the index alerts_active_level alone.
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
