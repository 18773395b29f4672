/**
 * `dcs import-pdk`: moves a study from an original PDK / Webmunk server here (docs/operations.md,
 * "Moving a running study"). Imports, then processes what it imported in the foreground (progress
 * on stderr), then prints the report on stdout: points per source and data type on both sides and
 * every point that could not be imported, with the reason. Exit code 0 when everything read was
 * imported, 1 otherwise (or on an error), so a script can tell.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { importPdkDatabase } from '../pdk-import/import-database.ts';
import { compareWithStored, formatReport, type ImportReport } from '../pdk-import/import-report.ts';
import { reportBundleOutcomes } from '../pdk-import/pending-bundles.ts';
import { processUntilEmpty } from '../processing/process-bundles.ts';
import { importPdkBackupsCommand } from './import-pdk-backups.command.ts';

export const IMPORT_PDK_USAGE = `Usage:
  dcs import-pdk --database postgres://USER:PASSWORD@HOST/NAME [--from-start]
      the original server's database: points, the bundles it had not processed, sources, groups,
      suppression, Keepa metadata; a re-run continues where the last one stopped (--from-start:
      reads everything again; nothing is stored twice either way)
  dcs import-pdk --backups DIR [--key BASE64]
      the original's backup files (PDK_BACKUP_KEY)`;

interface Deps {
  pool: Pool;
  config: Config;
  log: Logger;
}

/** Processes the imported bundles (and anything else pending), then prints the report; returns the exit code. */
async function processAndReport(deps: Deps, report: ImportReport, check: (report: ImportReport) => Promise<void>): Promise<number> {
  const startedAt = Date.now();
  let lastLine = 0;
  const total = await processUntilEmpty(deps, (t) => {
    if (Date.now() - lastLine < 2_000) return;
    lastLine = Date.now();
    console.error(`processing: ${t.bundles} bundles, ${t.added} points added (${t.points} seen) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  });
  console.error(`processed ${total.bundles} bundles: ${total.added} new points (${total.points - total.added - total.rejected} already stored), ${total.rejected} rejected; ${total.failed} failed attempts`);
  await check(report);
  console.log(formatReport(report, await compareWithStored(deps.pool, report)));
  return report.failures.length === 0 ? 0 : 1;
}

export async function importPdkCommand(deps: Deps, args: string[], completeDigests: () => Promise<void>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { database: { type: 'string' }, backups: { type: 'string' }, key: { type: 'string' }, 'from-start': { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }));
    if ((values.database === undefined) === (values.backups === undefined)) throw new Error('Give either --database or --backups.');
    if (values.database !== undefined && values.key !== undefined) throw new Error('--key goes with --backups.');
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${IMPORT_PDK_USAGE}`);
    return 1;
  }
  await completeDigests();
  if (values.backups !== undefined) return importPdkBackupsCommand(deps, args);
  const keys = deps.config.serverSecretKey && deps.config.clientPublicKey
    ? { serverSecretKey: deps.config.serverSecretKey, clientPublicKey: deps.config.clientPublicKey }
    : undefined;
  let imported;
  try {
    imported = await importPdkDatabase(deps.pool, { url: values.database!, fromStart: values['from-start'], keys, progress: (line) => console.error(line) });
  } catch (error) {
    console.error(`import failed: ${(error as Error).message}`);
    console.error('What was imported before the failure is kept; run the same command again to continue.');
    return 1;
  }
  return processAndReport(deps, imported.report, (report) => reportBundleOutcomes(deps.pool, imported.pending.bundles, report));
}
