/**
 * `dcs backup run|list|verify` and `dcs restore` (docs/backups.md). `list` and `verify` read the
 * destinations only, never the database; `run` takes the backup job's lock, so it never runs
 * beside the scheduled one; `restore` loads a backup, then processes it in the foreground and runs
 * the statistics and status checks, so the dashboard is whole when it returns.
 */
import { parseArgs } from 'node:util';
import { BackupError } from '../backup/backup-file.ts';
import { configuredStores, storeFromArgument, type BackupStore } from '../backup/backup-store.ts';
import { backupJob, runBackupNow } from '../backup/backup.job.ts';
import { readRuns } from '../backup/read-backups.ts';
import { restoreBackup } from '../backup/restore.ts';
import { verifyBackups } from '../backup/verify-backups.ts';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { findJob } from '../jobs/job-list.ts';
import { runJob } from '../jobs/run-job.ts';
import type { Logger } from '../log.ts';
import { processUntilEmpty } from '../processing/process-bundles.ts';

export const BACKUP_USAGE = `  backup key                print a new BACKUP_KEY (the key backups are encrypted with)
  backup run                make a backup now (of what is new since the last one), to BACKUP_DIR / BACKUP_S3_BUCKET
  backup list [--from DEST] the backup runs at each destination (or at DEST: a folder or s3://bucket/prefix)
  backup verify [--from DEST]
                            download, decrypt and check every file against its manifest (not the database)
  restore --from DEST [--until ISO-TIME] [--merge]
                            load a backup into this (empty) database, then process it; --merge adds
                            only what the database lacks`;

interface Context {
  pool: Pool;
  config: Config;
  log: Logger;
}

function storesOf(config: Config, from: string | undefined): BackupStore[] {
  if (from) return [storeFromArgument(from, config.backupS3ForcePathStyle)];
  const stores = configuredStores(config);
  if (stores.length === 0) throw new BackupError('No backup destination: set BACKUP_DIR and/or BACKUP_S3_BUCKET, or give --from DEST.');
  return stores;
}

function keyOf(config: Config): Uint8Array {
  if (!config.backupKey) throw new BackupError('BACKUP_KEY (or PDK_BACKUP_KEY) is not set: it is needed to read or write backups.');
  return config.backupKey;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** `backup list` and `backup verify`: the destinations only. Null: not one of them. */
export async function backupOfflineCommand(config: Config, args: string[]): Promise<number | null> {
  if (args[0] !== 'list' && args[0] !== 'verify') return null;
  const { values } = parseArgs({ args: args.slice(1), options: { from: { type: 'string' } }, strict: true });
  let failed = false;
  for (const store of storesOf(config, values.from)) {
    if (args[0] === 'list') {
      const { runs, incomplete } = await readRuns(store);
      console.log(`${store.name}: ${runs.length} backup runs`);
      for (const run of runs) {
        const bytes = run.files.reduce((n, f) => n + f.bytes, 0);
        const received = run.bundles.count ? `, received ${run.bundles.firstReceived} – ${run.bundles.lastReceived}` : '';
        console.log(`  ${run.name}  ${String(run.bundles.count).padStart(8)} bundles${received}; ${run.files.length} files, ${mib(bytes)}`);
      }
      for (const name of incomplete) console.log(`  ${name}  incomplete (no manifest: the run failed or is being written; never restored)`);
      continue;
    }
    const report = await verifyBackups(store, keyOf(config));
    console.log(`${store.name}: ${report.runs} runs, ${report.files} files checked, ${report.bundles} bundles and ${report.tableRows} table rows readable`);
    for (const name of report.incomplete) console.log(`  incomplete run (ignored): ${name}`);
    for (const problem of report.problems) console.log(`  PROBLEM: ${problem}`);
    if (report.problems.length > 0) failed = true;
  }
  return failed ? 1 : 0;
}

export async function backupCommand(ctx: Context, args: string[]): Promise<number> {
  if (args[0] !== 'run' || args.length !== 1) {
    console.error(`Usage:\n${BACKUP_USAGE}`);
    return 1;
  }
  keyOf(ctx.config);
  storesOf(ctx.config, undefined);
  const result = await runJob(ctx, { ...backupJob, run: runBackupNow }, 'cli');
  if (result.outcome === 'succeeded') {
    console.log(`backup written: ${JSON.stringify(result.counts)}`);
    return 0;
  }
  console.error(result.outcome === 'failed' ? `backup failed: ${result.error.message}` : 'a backup is running in another process right now; not started again.');
  return 1;
}

export async function restoreCommand(ctx: Context, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, until: { type: 'string' }, merge: { type: 'boolean', default: false } }, strict: true });
  if (!values.from) throw new BackupError('Give the backup to restore: --from DEST (a folder, or s3://bucket/prefix).');
  const until = values.until === undefined ? undefined : new Date(values.until);
  if (until && Number.isNaN(until.getTime())) throw new BackupError(`--until must be an ISO time (got "${values.until}").`);
  const startedAt = Date.now();
  const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);
  const outcome = await restoreBackup(ctx.pool, storesOf(ctx.config, values.from)[0], keyOf(ctx.config), {
    until, merge: values.merge, onProgress: (line) => console.error(`[${seconds()} s] ${line}`),
  });
  const processed = await processUntilEmpty(ctx, (t) => console.error(`[${seconds()} s] processing: ${t.bundles} bundles, ${t.added} points stored`));
  for (const name of ['source-statistics', 'status-checks']) await runJob(ctx, findJob(name)!, 'cli');
  console.log(`restored from ${outcome.runs} backup runs: ${outcome.bundlesLoaded} bundles loaded (${outcome.bundlesRead - outcome.bundlesLoaded - outcome.bundlesAfterUntil} already here${until ? `, ${outcome.bundlesAfterUntil} received after --until left out` : ''}), ${processed.added} points stored, in ${seconds()} s`);
  console.log(`small tables: ${Object.entries(outcome.tableRows).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  return 0;
}
