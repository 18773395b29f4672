/**
 * `dcs import-pdk --backups DIR [--key BASE64]`: an original PDK / Webmunk server's backup files
 * into this server (pdk-import/backup-files/), then its configurations (through app-config, as
 * `dcs config import` saves them), then processing in the foreground, then the report: counts per
 * source and data type on both sides, what the files could not contain, what was not imported.
 * Exit 0 when every file and point was read; 1 when some were not (the rest is imported).
 */
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { findAssignment, setAssignment } from '../app-config/assignments.repository.ts';
import { ConfigurationError, normaliseValue } from '../app-config/configuration.ts';
import { findConfigurationByName } from '../app-config/configurations.repository.ts';
import { importConfigurations } from '../app-config/transfer.ts';
import type { Config } from '../config.ts';
import { decodeKey } from '../crypto/box.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import { importPdkBackups, type BackupImport } from '../pdk-import/backup-files/import-backups.ts';
import { compareWithStored, formatReport } from '../pdk-import/import-report.ts';
import { processUntilEmpty } from '../processing/process-bundles.ts';

export const IMPORT_BACKUPS_USAGE = `Usage: dcs import-pdk --backups DIR [--key BASE64]
  DIR     a folder holding the original's backup files (subfolders too: a downloaded S3 bucket)
  --key   the original's PDK_BACKUP_KEY (default: BACKUP_KEY or PDK_BACKUP_KEY of this server)`;

interface Deps {
  pool: Pool;
  config: Config;
  log: Logger;
}

/** Who saves the original's configurations, in their versions' history. */
const IMPORTER = 'import-pdk --backups';

/** The original's configurations this server lacks (by name), and its direct assignments; notes the rest. */
async function saveConfigurations(pool: Pool, imported: BackupImport): Promise<void> {
  const notes = imported.report.notes;
  const created: string[] = [];
  for (const original of imported.configurations) {
    if (await findConfigurationByName(pool, original.name)) {
      notes.push(`Configuration ${original.name}: one of that name is here already; kept as it is (dcs config import replaces it).`);
      continue;
    }
    try {
      const input = { ...original, weight: null, document: normaliseValue(original.configuration) };
      await withTransaction(pool, (client) => importConfigurations(client, [input], IMPORTER));
      created.push(original.name);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      notes.push(`Configuration ${original.name} not imported: ${error.message}`);
    }
  }
  if (created.length > 0) {
    notes.push(`Configurations created: ${created.join(', ')}. Their patterns must match a whole identifier here; the original searched for them anywhere in it (docs/app-config.md).`);
  }
  let assigned = 0;
  for (const [identifier, name] of imported.assignments) {
    const configuration = await findConfigurationByName(pool, name);
    if (!configuration || (await findAssignment(pool, identifier)) !== undefined) continue;
    await setAssignment(pool, identifier, configuration.id, IMPORTER);
    assigned += 1;
  }
  if (assigned > 0) notes.push(`Configurations assigned to ${assigned} source${assigned === 1 ? '' : 's'} directly, as on the original.`);
}

export async function importPdkBackupsCommand(deps: Deps, args: string[]): Promise<number> {
  let dir: string;
  let key: Uint8Array | undefined;
  try {
    const { values } = parseArgs({ args, options: { backups: { type: 'string' }, key: { type: 'string' } }, strict: true });
    if (!values.backups) throw new Error('--backups DIR is required');
    if (!(await fs.stat(values.backups).catch(() => undefined))?.isDirectory()) throw new Error(`--backups ${values.backups}: no such folder`);
    dir = values.backups;
    key = values.key === undefined ? deps.config.backupKey : decodeKey(values.key);
    if (values.key !== undefined && !key) throw new Error('--key must be the base64 of a 32-byte key (the original\'s PDK_BACKUP_KEY)');
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${IMPORT_BACKUPS_USAGE}`);
    return 1;
  }
  if (!key) console.error('No key (--key, BACKUP_KEY or PDK_BACKUP_KEY): encrypted files cannot be read, only files already decrypted.');

  const startedAt = Date.now();
  let shownAt = 0;
  const imported = await importPdkBackups(deps.pool, {
    dir, key, timeZone: deps.config.timeZone, maxPointBytes: deps.config.maxPointBytes, log: deps.log,
    onProgress: (p) => {
      if (p.files < p.of && Date.now() - shownAt < 2000) return;
      shownAt = Date.now();
      console.error(`read ${p.files} of ${p.of} files of points, ${p.points} points`);
    },
  });
  await saveConfigurations(deps.pool, imported);
  const processed = await processUntilEmpty(deps, (t) => console.error(`processed ${t.bundles} bundles, ${t.added} points added (${t.points} seen)`));
  const already = processed.points - processed.added - processed.rejected;
  console.error(`imported in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${processed.added} new points stored, ${already} were here already, ${processed.rejected} refused by processing`);
  console.log(formatReport(imported.report, await compareWithStored(deps.pool, imported.report)));
  return imported.failedFiles > 0 || imported.report.failures.length > 0 || processed.failed > 0 ? 1 : 0;
}
