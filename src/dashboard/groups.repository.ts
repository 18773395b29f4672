/** Source groups (table source_groups): how a study team organises its participants. */
import type { Pool, PoolClient } from '../db/database.ts';

export interface SourceGroup {
  id: number;
  name: string;
  suppressAlerts: boolean;
  /** sources in the group that are not removed */
  sources: number;
}

type Db = Pool | PoolClient;

export async function listGroups(db: Db): Promise<SourceGroup[]> {
  const { rows } = await db.query(
    `SELECT g.id, g.name, g.suppress_alerts, count(s.source) FILTER (WHERE s.removed_at IS NULL)::int AS sources
     FROM source_groups g LEFT JOIN data_sources s ON s.group_id = g.id
     GROUP BY g.id ORDER BY lower(g.name), g.id`,
  );
  return rows.map((r) => ({ id: Number(r.id), name: r.name, suppressAlerts: r.suppress_alerts, sources: r.sources }));
}

/** The group of that name, created when there is none (names compare exactly, after trimming). */
export async function findOrCreateGroup(db: Db, name: string): Promise<number> {
  const { rows } = await db.query(
    `WITH created AS (INSERT INTO source_groups (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id)
     SELECT id FROM created UNION ALL SELECT id FROM source_groups WHERE name = $1 LIMIT 1`,
    [name.trim()],
  );
  return Number(rows[0].id);
}

export async function groupExists(db: Db, id: number): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM source_groups WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Suppresses (or enables) the alerts of every source in the group. Returns false for an unknown group. */
export async function setGroupSuppressed(db: Db, id: number, suppress: boolean): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE source_groups SET suppress_alerts = $2 WHERE id = $1', [id, suppress]);
  return (rowCount ?? 0) > 0;
}

/** Deletes the group; its sources become ungrouped (ON DELETE SET NULL), their data stays. */
export async function deleteGroup(db: Db, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM source_groups WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
