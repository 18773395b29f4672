/**
 * The data-sources query and update of the PDK API. Removed sources are left out, as on the
 * dashboard. An update changes a source's group (by name, created when missing; null clears it)
 * or its name, never another column (the original let a token set any column, §4.1.3).
 */
import type { PoolClient } from '../db/database.ts';
import type { FieldSpec, SqlParams } from './lookups.ts';

export const SOURCE_FIELDS: Record<string, FieldSpec> = {
  identifier: { sql: 's.source', type: 'text', lookups: ['exact', 'in'], nullable: false },
  name: { sql: 's.name', type: 'text', lookups: ['exact', 'in', 'isnull'] },
  group: { sql: 'g.name', type: 'text', lookups: ['exact', 'in', 'isnull'] },
  group__name: { sql: 'g.name', type: 'text', lookups: ['exact', 'in', 'isnull'] },
  // The Python client always excludes {"pk": null}: every source has one.
  pk: { sql: 's.source', type: 'text', lookups: ['exact', 'isnull'], nullable: false, nullOnly: true },
};

export const SOURCE_ORDER: Record<string, string> = { identifier: 's.source', name: 's.name', group: 'g.name', group__name: 'g.name' };

const FROM = 'data_sources s LEFT JOIN source_groups g ON g.id = s.group_id';

export interface SourceAlert {
  name: string;
  level: string;
  source: string;
  generator: string | null;
  created: string;
  updated: string;
  active: boolean;
  details: unknown;
}

export interface SourceMatch {
  name: string;
  identifier: string;
  latest_user_agent: string | null;
  suppresses_alerts: boolean;
  point_count: number;
  group: string | null;
  active_alerts: SourceAlert[];
  earliest_point: null;
  latest_point: null;
}

export async function countSources(db: PoolClient, where: string, params: SqlParams): Promise<number> {
  const { rows } = await db.query(`SELECT count(*) AS count FROM ${FROM} WHERE s.removed_at IS NULL AND ${where}`, params.values);
  return Number(rows[0].count);
}

/** One page, in the original's key order; unordered queries go by identifier as the original's. */
export async function pageSources(db: PoolClient, where: string, params: SqlParams, order: string[], limit: number, offset: number): Promise<SourceMatch[]> {
  const { rows } = await db.query(
    `SELECT s.source, coalesce(s.name, s.source) AS name, s.latest_user_agent, s.point_count, g.name AS group_name,
            s.suppress_alerts OR coalesce(g.suppress_alerts, false) AS suppresses
     FROM ${FROM} WHERE s.removed_at IS NULL AND ${where}
     ORDER BY ${[...order, 's.source'].join(', ')}
     LIMIT $${params.values.length + 1} OFFSET $${params.values.length + 2}`,
    [...params.values, limit, offset],
  );
  const alerts = await activeAlerts(db, rows.map((r) => r.source as string));
  return rows.map((r) => ({
    name: r.name,
    identifier: r.source,
    latest_user_agent: r.latest_user_agent,
    suppresses_alerts: r.suppresses,
    point_count: Number(r.point_count),
    group: r.group_name,
    active_alerts: alerts.get(r.source) ?? [],
    earliest_point: null,
    latest_point: null,
  }));
}

async function activeAlerts(db: PoolClient, sources: string[]): Promise<Map<string, SourceAlert[]>> {
  const bySource = new Map<string, SourceAlert[]>();
  if (sources.length === 0) return bySource;
  const { rows } = await db.query(
    `SELECT source, name, level, details, created, updated FROM alerts WHERE active AND source = ANY ($1::text[]) ORDER BY created, id`,
    [sources],
  );
  for (const r of rows) {
    const list = bySource.get(r.source) ?? [];
    list.push({ name: r.name, level: r.level, source: r.source, generator: null, created: r.created.toISOString(), updated: r.updated.toISOString(), active: true, details: r.details });
    bySource.set(r.source, list);
  }
  return bySource;
}

/** Sets the group of every matching source (null: no group); returns how many matched. */
export async function setSourcesGroup(db: PoolClient, where: string, params: SqlParams, group: string | null): Promise<number> {
  if (group === null) {
    const { rowCount } = await db.query(
      `UPDATE data_sources SET group_id = NULL WHERE source IN (SELECT s.source FROM ${FROM} WHERE s.removed_at IS NULL AND ${where})`,
      params.values,
    );
    return rowCount ?? 0;
  }
  const name = params.add(group);
  // The group is created when missing; the CTEs share one snapshot, so a group created here is
  // found through `created`, one that existed through the table.
  const { rowCount } = await db.query(
    `WITH created AS (INSERT INTO source_groups (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING RETURNING id),
          chosen AS (SELECT id FROM created UNION ALL SELECT id FROM source_groups WHERE name = ${name} LIMIT 1)
     UPDATE data_sources SET group_id = (SELECT id FROM chosen)
     WHERE source IN (SELECT s.source FROM ${FROM} WHERE s.removed_at IS NULL AND ${where})`,
    params.values,
  );
  return rowCount ?? 0;
}

/** Sets the name of every matching source (names are unique: more than one match fails with 23505). */
export async function setSourcesName(db: PoolClient, where: string, params: SqlParams, name: string | null): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE data_sources SET name = ${params.add(name)} WHERE source IN (SELECT s.source FROM ${FROM} WHERE s.removed_at IS NULL AND ${where})`,
    params.values,
  );
  return rowCount ?? 0;
}
