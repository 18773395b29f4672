/** Saving a configuration, the one way the dashboard and `dcs config import` both take. */
import type { PoolClient } from '../db/database.ts';
import { ConfigurationError, configurationProblems, sameConfiguration, type Configuration, type ConfigurationInput } from './configuration.ts';
import { insertConfiguration, updateConfiguration } from './configurations.repository.ts';

export interface Saved {
  outcome: 'created' | 'updated' | 'unchanged';
  configuration: Configuration;
}

/**
 * Saves `input` as a new configuration (`existing` undefined) or over `existing`, as a new version;
 * an input equal to `existing` saves nothing. Throws ConfigurationError with every problem, or
 * when the name is another configuration's. Runs in the caller's transaction.
 */
export async function saveConfiguration(client: PoolClient, input: ConfigurationInput, by: string, existing?: Configuration): Promise<Saved> {
  const problems = configurationProblems(input);
  if (problems.length > 0) throw new ConfigurationError(problems.join('; '));
  if (existing && sameConfiguration(existing, input)) return { outcome: 'unchanged', configuration: existing };
  await client.query('SAVEPOINT save_configuration');
  try {
    const configuration = existing ? await updateConfiguration(client, existing.id, input, by) : await insertConfiguration(client, input, by);
    await client.query('RELEASE SAVEPOINT save_configuration');
    return { outcome: existing ? 'updated' : 'created', configuration };
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await client.query('ROLLBACK TO SAVEPOINT save_configuration');
    throw new ConfigurationError(`the name ${input.name} is already another configuration's`);
  }
}
