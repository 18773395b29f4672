/**
 * Configurations as a file (`dcs config export` / `import`): a JSON array of
 * `{"name", "idPattern", "contextPattern", "order", "enabled", "weight"?, "configuration"}`.
 * Import creates or updates by name, each change a new version; it checks the whole file before
 * saving anything, and the caller's transaction makes a failure change nothing.
 */
import type { Pool, PoolClient } from '../db/database.ts';
import { ConfigurationError, normaliseValue, type ConfigurationInput } from './configuration.ts';
import { findConfigurationByName, listConfigurations } from './configurations.repository.ts';
import { saveConfiguration } from './save-configuration.ts';

export interface ConfigurationEntry {
  name: string;
  idPattern: string;
  contextPattern: string;
  order: number;
  enabled: boolean;
  weight?: number;
  configuration: Record<string, unknown>;
}

const KEYS = ['name', 'idPattern', 'contextPattern', 'order', 'enabled', 'weight', 'configuration'];

/** Every configuration, in evaluation order, as the import reads them. */
export async function exportConfigurations(db: Pool): Promise<ConfigurationEntry[]> {
  return (await listConfigurations(db)).map((c) => ({
    name: c.name, idPattern: c.idPattern, contextPattern: c.contextPattern, order: c.order, enabled: c.enabled,
    ...(c.weight === null ? {} : { weight: c.weight }),
    configuration: JSON.parse(c.document) as Record<string, unknown>,
  }));
}

/** One entry of the file as a ConfigurationInput; throws ConfigurationError with the reason. */
function entryInput(entry: unknown): ConfigurationInput {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigurationError('is not an object');
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) throw new ConfigurationError(`has unknown keys ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KEYS.join(', ')})`);
  const text = (key: string, fallback?: string) => {
    const value = e[key] ?? fallback;
    if (typeof value !== 'string') throw new ConfigurationError(`needs "${key}" as a string`);
    return value;
  };
  const order = e.order ?? 0;
  if (typeof order !== 'number') throw new ConfigurationError('needs "order" as a number');
  const enabled = e.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigurationError('needs "enabled" as true or false');
  const weight = e.weight ?? null;
  if (weight !== null && typeof weight !== 'number') throw new ConfigurationError('needs "weight" as a number, or no weight');
  if (e.configuration === undefined) throw new ConfigurationError('needs "configuration", the JSON object to serve');
  return { name: text('name'), idPattern: text('idPattern'), contextPattern: text('contextPattern', '.*'), order, enabled, weight, document: normaliseValue(e.configuration) };
}

/** The file's entries, or ConfigurationError naming the first bad entry and why. */
export function parseConfigurationFile(text: string): ConfigurationInput[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`the file is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ConfigurationError('the file must hold a JSON array of configurations');
  const seen = new Map<string, number>();
  return value.map((entry, index) => {
    const label = `entry ${index + 1}${typeof entry?.name === 'string' ? ` (${entry.name})` : ''}`;
    try {
      const input = entryInput(entry);
      if (seen.has(input.name)) throw new ConfigurationError(`has the same name as entry ${seen.get(input.name)}`);
      seen.set(input.name, index + 1);
      return input;
    } catch (error) {
      if (error instanceof ConfigurationError) throw new ConfigurationError(`${label}: ${error.message}`);
      throw error;
    }
  });
}

export interface ImportResult {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Saves every entry (by name) in the caller's transaction; the first bad one throws, naming it. */
export async function importConfigurations(client: PoolClient, entries: readonly ConfigurationInput[], by: string): Promise<ImportResult> {
  const result: ImportResult = { created: [], updated: [], unchanged: [] };
  for (const [index, input] of entries.entries()) {
    try {
      const saved = await saveConfiguration(client, input, by, await findConfigurationByName(client, input.name));
      result[saved.outcome].push(input.name);
    } catch (error) {
      if (error instanceof ConfigurationError) throw new ConfigurationError(`entry ${index + 1} (${input.name}): ${error.message}`);
      throw error;
    }
  }
  return result;
}
