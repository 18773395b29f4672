/**
 * The original's groups and sources into source_groups and data_sources. An import fills in what
 * is missing here and never overwrites what the study team set on this server since the move (a
 * name, a group); suppression is kept if either side suppresses. Running it again changes nothing.
 */
import type { Pool, PoolClient } from '../../db/database.ts';
import type { OriginalGroup, OriginalSource } from './dumpdata.ts';

type Db = Pool | PoolClient;

/** Creates the groups this server does not have (by name). Returns how many were created. */
export async function addMissingGroups(db: Db, groups: OriginalGroup[]): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO source_groups (name, suppress_alerts)
     SELECT name, suppress FROM unnest($1::text[], $2::boolean[]) AS g (name, suppress)
     ON CONFLICT (name) DO NOTHING`,
    [groups.map((g) => g.name), groups.map((g) => g.suppressAlerts)],
  );
  return rowCount ?? 0;
}

export interface SourcesAdded {
  /** Sources this server did not know yet. */
  created: number;
  /** Known sources that got a name, a group or suppression they lacked. */
  updated: number;
  /** Sources whose name was not set because another source here has it. */
  nameTaken: { source: string; name: string }[];
}

/** Adds the sources, and on known ones the name and group they lack (groups by name: addMissingGroups first). */
export async function addSourceDetails(db: Db, sources: OriginalSource[]): Promise<SourcesAdded> {
  const params = [sources.map((s) => s.identifier), sources.map((s) => s.name), sources.map((s) => s.group), sources.map((s) => s.suppressAlerts)];
  const input = 'unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS i (source, name, group_name, suppress)';
  const { rows: nameTaken } = await db.query<{ source: string; name: string }>(
    `SELECT i.source, i.name FROM ${input} JOIN data_sources o ON o.name = i.name AND o.source <> i.source`,
    params,
  );
  const { rows } = await db.query<{ created: boolean }>(
    `INSERT INTO data_sources AS s (source, first_seen, name, group_id, suppress_alerts)
     SELECT i.source, now(),
            CASE WHEN EXISTS (SELECT 1 FROM data_sources o WHERE o.name = i.name AND o.source <> i.source) THEN NULL ELSE i.name END,
            (SELECT id FROM source_groups WHERE name = i.group_name), i.suppress
     FROM ${input}
     ORDER BY i.source
     ON CONFLICT (source) DO UPDATE SET
       name = coalesce(s.name, excluded.name),
       group_id = coalesce(s.group_id, excluded.group_id),
       suppress_alerts = s.suppress_alerts OR excluded.suppress_alerts
     WHERE (s.name IS NULL AND excluded.name IS NOT NULL) OR (s.group_id IS NULL AND excluded.group_id IS NOT NULL)
        OR (excluded.suppress_alerts AND NOT s.suppress_alerts)
     RETURNING xmax = 0 AS created`,
    params,
  );
  return { created: rows.filter((r) => r.created).length, updated: rows.filter((r) => !r.created).length, nameTaken };
}
