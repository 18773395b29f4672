/** Configurations for the app-config tests, saved the way the dashboard and the import save them. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { withTransaction, type Pool } from '../../src/db/database.ts';
import { normaliseValue, type ConfigurationInput } from '../../src/app-config/configuration.ts';
import { findConfigurationByName } from '../../src/app-config/configurations.repository.ts';
import { saveConfiguration, type Saved } from '../../src/app-config/save-configuration.ts';
import { resolveConfiguration, type Resolved } from '../../src/app-config/resolve.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * A database of this file's own, its configurations, assignments, draws and served records emptied
 * before each test. Returns a stand-in that reads through to it once it exists.
 */
export function useConfigurationDatabase(): TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db!.pool.query('TRUNCATE app_configurations, app_config_assignments, app_config_draws, app_config_served CASCADE');
  });
  return new Proxy({} as TestDatabase, { get: (_target, key) => Reflect.get(db!, key) });
}

/** A REX configuration document naming itself, so a test sees which one it got. */
export function rexDocument(label: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ui: [{ title: label }], configuration_url: 'https://dcs.example.org/data/app-config.json?id=<IDENTIFIER>', passive_data_kit: { endpoint: '', enabled: true }, label, ...extra };
}

/** Saves (creates or updates by name) a configuration; unset fields take these defaults. */
export async function putConfiguration(pool: Pool, entry: Partial<Omit<ConfigurationInput, 'document'>> & { name: string; document?: Record<string, unknown> }, by = 'test'): Promise<Saved> {
  const input: ConfigurationInput = {
    idPattern: '.*', contextPattern: '.*', order: 0, enabled: true, weight: null,
    ...entry,
    document: normaliseValue(entry.document ?? rexDocument(entry.name)),
  };
  return withTransaction(pool, async (client) => saveConfiguration(client, input, by, await findConfigurationByName(client, entry.name)));
}

export function resolve(pool: Pool, identifier: string, context = 'default', defaultName?: string): Promise<Resolved | undefined> {
  return withTransaction(pool, (client) => resolveConfiguration(client, identifier, context, defaultName));
}

/** The name of the configuration `identifier` gets, or undefined. */
export async function resolvedName(pool: Pool, identifier: string, context = 'default', defaultName?: string): Promise<string | undefined> {
  return (await resolve(pool, identifier, context, defaultName))?.configuration.name;
}
