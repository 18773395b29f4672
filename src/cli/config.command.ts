/** `dcs config export FILE | import FILE | assign SOURCE NAME | assign SOURCE --clear | list`: REX configurations. */
import fs from 'node:fs/promises';
import os from 'node:os';
import { setAssignment } from '../app-config/assignments.repository.ts';
import { ConfigurationError } from '../app-config/configuration.ts';
import { countServed, findConfigurationByName, listConfigurations } from '../app-config/configurations.repository.ts';
import { exportConfigurations, importConfigurations, parseConfigurationFile } from '../app-config/transfer.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';

export const CONFIG_USAGE = `Usage:
  dcs config export FILE          every REX configuration as a JSON array (docs/app-config.md)
  dcs config import FILE          create or update configurations by name from such a file
                                  (all or nothing: a bad entry changes nothing)
  dcs config assign SOURCE NAME   serve configuration NAME to participant SOURCE, before any pattern
  dcs config assign SOURCE --clear
  dcs config list                 every configuration, in evaluation order`;

/** Who saves from the command line, in the versions' history. */
const cliUser = () => `cli:${os.userInfo().username}`;

export async function configCommand(pool: Pool, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const usage = () => {
    console.error(CONFIG_USAGE);
    return 1;
  };
  switch (action) {
    case 'export': {
      if (rest.length !== 1) return usage();
      const entries = await exportConfigurations(pool);
      await fs.writeFile(rest[0], `${JSON.stringify(entries, null, 2)}\n`);
      console.log(`exported ${entries.length} configuration${entries.length === 1 ? '' : 's'} to ${rest[0]}`);
      return 0;
    }
    case 'import': {
      if (rest.length !== 1) return usage();
      try {
        const entries = parseConfigurationFile(await fs.readFile(rest[0], 'utf8'));
        const result = await withTransaction(pool, (client) => importConfigurations(client, entries, cliUser()));
        const list = (names: string[]) => (names.length > 0 ? ` (${names.join(', ')})` : '');
        console.log(`created ${result.created.length}${list(result.created)}, updated ${result.updated.length}${list(result.updated)}, unchanged ${result.unchanged.length}`);
        return 0;
      } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        console.error(`Nothing imported: ${error.message}`);
        return 1;
      }
    }
    case 'assign': {
      const [source, name, ...extra] = rest;
      if (!source || !name || extra.length > 0) return usage();
      if (name === '--clear') {
        await setAssignment(pool, source, null, cliUser());
        console.log(`${source} has no configuration assigned; it gets what its identifier matches`);
        return 0;
      }
      const configuration = await findConfigurationByName(pool, name);
      if (!configuration) {
        console.error(`No configuration "${name}" (dcs config list shows them).`);
        return 1;
      }
      await setAssignment(pool, source, configuration.id, cliUser());
      console.log(`${source} is assigned ${name}${configuration.enabled ? '' : ' (disabled: not served until enabled)'}`);
      return 0;
    }
    case 'list': {
      if (rest.length > 0) return usage();
      const [configurations, served] = await Promise.all([listConfigurations(pool), countServed(pool)]);
      if (configurations.length === 0) console.log('no configurations yet: dcs config import FILE, or the Configurations page');
      for (const c of configurations) {
        const weight = c.weight === null ? '' : `  weight ${c.weight}`;
        console.log(`${String(c.order).padStart(6)}  ${c.enabled ? 'on ' : 'off'}  ${c.name}  v${c.version}  id ${c.idPattern}  context ${c.contextPattern}${weight}  served ${served.get(c.id) ?? 0}`);
      }
      return 0;
    }
    default:
      return usage();
  }
}
