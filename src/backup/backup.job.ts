/**
 * The job `backup`: looks every 5 minutes and backs up when the last successful backup is
 * BACKUP_INTERVAL_MINUTES old. A failed run is retried after 5, 10, 20… minutes (at most the
 * interval), shows on System health and the home page, counts in /metrics, and raises the backup
 * alert once the newest successful backup is older than BACKUP_MAX_AGE_MINUTES.
 */
import type { Config } from '../config.ts';
import type { JobContext, JobDefinition } from '../job-contract.ts';
import { configuredStores } from './backup-store.ts';
import { readBackupHealth, type BackupHealth } from './backup-runs.repository.ts';
import { RUN_MAX_BYTES, runBackup } from './run-backup.ts';

const FIRST_RETRY_MINUTES = 5;

/** Backups run with this configuration: a key and at least one destination. */
export function backupsConfigured(config: Config): boolean {
  return config.backupKey !== undefined && configuredStores(config).length > 0;
}

/** Whether a backup is due now: never made, old enough, and not inside a failed run's back-off. */
export function backupDue(health: BackupHealth, config: Config, now = new Date()): boolean {
  const minutesSince = (at: Date) => (now.getTime() - at.getTime()) / 60_000;
  if (health.lastSuccess && minutesSince(health.lastSuccess.startedAt) < config.backupIntervalMinutes) return false;
  if (health.failuresSince > 0 && health.lastFailure?.finishedAt) {
    const wait = Math.min(FIRST_RETRY_MINUTES * 2 ** (health.failuresSince - 1), config.backupIntervalMinutes);
    if (minutesSince(health.lastFailure.finishedAt) < wait) return false;
  }
  return true;
}

const settingsOf = (config: Config, runMaxBytes: number) => ({ key: config.backupKey!, stores: configuredStores(config), fileBytes: config.backupFileMegabytes * 1024 * 1024, runMaxBytes });

/**
 * A backup now, due or not (`dcs backup run`, under the job's lock): runs one after another until
 * the queue is empty (each at most `runMaxBytes` of bundles, each complete with its manifest).
 */
export async function runBackupNow({ pool, config, log }: JobContext, runMaxBytes = RUN_MAX_BYTES): Promise<Record<string, number>> {
  const counts = { due: 1, runs: 0, bundles: 0, files: 0, bytes: 0, tableRows: 0 };
  for (let remaining = 1; remaining > 0;) {
    const outcome = await runBackup(pool, settingsOf(config, runMaxBytes), log);
    remaining = outcome.remaining;
    counts.runs += 1;
    counts.bundles += outcome.bundles;
    counts.files += outcome.files;
    counts.bytes += outcome.bytes;
    counts.tableRows += outcome.tableRows;
  }
  return counts;
}

export const backupJob: JobDefinition = {
  name: 'backup',
  description: 'Encrypted backup of new bundles and the small tables to BACKUP_DIR and/or BACKUP_S3_BUCKET, when one is due',
  schedule: { everyMinutes: 5 },
  enabled: backupsConfigured,
  // The first backup of a server that ran without one copies every bundle it has.
  timeoutMinutes: 12 * 60,
  async run(ctx) {
    if (!backupsConfigured(ctx.config) || !backupDue(await readBackupHealth(ctx.pool), ctx.config)) return { due: 0 };
    return runBackupNow(ctx);
  },
};
