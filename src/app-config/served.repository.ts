/**
 * What each participant was served, for the pages and the exports (the study arm): a public
 * read-only view of app_config_served and app_config_assignments, so that other capabilities need
 * none of app-config's internals.
 */
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

export interface ServedConfiguration {
  configurationId: number;
  name: string;
  version: number;
  /** assigned (directly), drawn (study arm), exact, pattern, default (APP_CONFIG_DEFAULT) */
  chosenBy: string;
  servedAt: Date;
}

export interface AssignedConfiguration {
  configurationId: number;
  name: string;
  assignedBy: string;
  assignedAt: Date;
}

/** What `identifier` was served last, and the configuration assigned to it directly, if any. */
export async function findServedTo(db: Db, identifier: string): Promise<{ served?: ServedConfiguration; assigned?: AssignedConfiguration }> {
  const [served, assigned] = await Promise.all([
    db.query(
      `SELECT s.configuration_id, c.name, s.version, s.chosen_by, s.served_at FROM app_config_served s
       JOIN app_configurations c ON c.id = s.configuration_id WHERE s.identifier = $1`,
      [identifier],
    ),
    db.query(
      `SELECT a.configuration_id, c.name, a.assigned_by, a.assigned_at FROM app_config_assignments a
       JOIN app_configurations c ON c.id = a.configuration_id WHERE a.identifier = $1`,
      [identifier],
    ),
  ]);
  const s = served.rows[0];
  const a = assigned.rows[0];
  return {
    served: s && { configurationId: Number(s.configuration_id), name: s.name, version: s.version, chosenBy: s.chosen_by, servedAt: s.served_at },
    assigned: a && { configurationId: Number(a.configuration_id), name: a.name, assignedBy: a.assigned_by, assignedAt: a.assigned_at },
  };
}

/** Per identifier (of those given): the name of the configuration it was served last. */
export async function servedNames(db: Db, identifiers: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query(
    `SELECT s.identifier, c.name FROM app_config_served s JOIN app_configurations c ON c.id = s.configuration_id WHERE s.identifier = ANY ($1::text[])`,
    [identifiers],
  );
  return new Map(rows.map((r) => [r.identifier, r.name]));
}

export interface ServedSummary {
  name: string;
  version: number;
  sources: number;
}

/** The configurations (name and version) last served to the given identifiers, with how many of them each. */
export async function summariseServed(db: Db, identifiers: readonly string[]): Promise<ServedSummary[]> {
  const { rows } = await db.query(
    `SELECT c.name, s.version, count(*)::int AS sources FROM app_config_served s JOIN app_configurations c ON c.id = s.configuration_id
     WHERE s.identifier = ANY ($1::text[]) GROUP BY c.name, s.version ORDER BY c.name, s.version`,
    [identifiers],
  );
  return rows.map((r) => ({ name: r.name, version: r.version, sources: r.sources }));
}
