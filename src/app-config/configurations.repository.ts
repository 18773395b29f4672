/**
 * Configurations and their versions (tables app_configurations, app_configuration_versions):
 * every save is a new version holding the whole state, who saved it and when.
 */
import type { QueryResultRow } from 'pg';
import type { Pool, PoolClient } from '../db/database.ts';
import type { Configuration, ConfigurationInput } from './configuration.ts';

type Db = Pool | PoolClient;

export interface ConfigurationVersion extends ConfigurationInput {
  configurationId: number;
  version: number;
  savedAt: Date;
  savedBy: string;
}

const toConfiguration = (r: QueryResultRow): Configuration => ({
  id: Number(r.id), name: r.name, idPattern: r.id_pattern, contextPattern: r.context_pattern, order: r.evaluation_order,
  enabled: r.enabled, weight: r.weight, document: r.document, version: r.version, updatedAt: r.updated_at, updatedBy: r.updated_by,
});

/** In evaluation order (ties by name). */
export async function listConfigurations(db: Db, options: { enabledOnly?: boolean } = {}): Promise<Configuration[]> {
  const { rows } = await db.query(`SELECT * FROM app_configurations ${options.enabledOnly ? 'WHERE enabled' : ''} ORDER BY evaluation_order, name`);
  return rows.map(toConfiguration);
}

export async function findConfigurationByName(db: Db, name: string): Promise<Configuration | undefined> {
  const { rows: [row] } = await db.query('SELECT * FROM app_configurations WHERE name = $1', [name]);
  return row ? toConfiguration(row) : undefined;
}

export async function findConfiguration(db: Db, id: number): Promise<Configuration | undefined> {
  const { rows: [row] } = await db.query('SELECT * FROM app_configurations WHERE id = $1', [id]);
  return row ? toConfiguration(row) : undefined;
}

const COLUMNS = 'name, id_pattern, context_pattern, evaluation_order, enabled, weight, document';
const values = (input: ConfigurationInput) => [input.name, input.idPattern, input.contextPattern, input.order, input.enabled, input.weight, input.document];

/** The current state as a new version row. */
async function recordVersion(client: PoolClient, id: number): Promise<void> {
  await client.query(
    `INSERT INTO app_configuration_versions (configuration_id, version, ${COLUMNS}, saved_at, saved_by)
     SELECT id, version, ${COLUMNS}, updated_at, updated_by FROM app_configurations WHERE id = $1`,
    [id],
  );
}

/** A new configuration, version 1. Throws the unique violation (23505) when the name is taken. */
export async function insertConfiguration(client: PoolClient, input: ConfigurationInput, by: string): Promise<Configuration> {
  const { rows: [row] } = await client.query(
    `INSERT INTO app_configurations (${COLUMNS}, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [...values(input), by],
  );
  await recordVersion(client, Number(row.id));
  return toConfiguration(row);
}

/** Saves `input` over configuration `id` as its next version. */
export async function updateConfiguration(client: PoolClient, id: number, input: ConfigurationInput, by: string): Promise<Configuration> {
  const { rows: [row] } = await client.query(
    `UPDATE app_configurations SET (${COLUMNS}) = ($2, $3, $4, $5, $6, $7, $8), version = version + 1, updated_at = now(), updated_by = $9
     WHERE id = $1 RETURNING *`,
    [id, ...values(input), by],
  );
  await recordVersion(client, id);
  return toConfiguration(row);
}

/** Newest first. */
export async function listVersions(db: Db, id: number): Promise<ConfigurationVersion[]> {
  const { rows } = await db.query('SELECT * FROM app_configuration_versions WHERE configuration_id = $1 ORDER BY version DESC', [id]);
  return rows.map((r) => ({
    configurationId: Number(r.configuration_id), version: r.version, name: r.name, idPattern: r.id_pattern, contextPattern: r.context_pattern,
    order: r.evaluation_order, enabled: r.enabled, weight: r.weight, document: r.document, savedAt: r.saved_at, savedBy: r.saved_by,
  }));
}

/** Per configuration id: identifiers it was the last served to. */
export async function countServed(db: Db): Promise<Map<number, number>> {
  const { rows } = await db.query('SELECT configuration_id, count(*)::int AS n FROM app_config_served GROUP BY configuration_id');
  return new Map(rows.map((r) => [Number(r.configuration_id), r.n]));
}
