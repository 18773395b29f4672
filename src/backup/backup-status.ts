/**
 * What the team must know about backups, in one sentence and one flag: System health shows it,
 * the home page shows it while it is an alert, /metrics exports it (dcs_backup_alert), and the
 * alert digest e-mails it. An alert: backups are set up halfway, a run failed, or the newest
 * successful backup is older than BACKUP_MAX_AGE_MINUTES.
 */
import type { Config } from '../config.ts';
import { configuredStores } from './backup-store.ts';
import type { BackupHealth } from './backup-runs.repository.ts';

export interface BackupStatus {
  state: 'off' | 'half-configured' | 'waiting' | 'ok' | 'failing' | 'overdue';
  alert: boolean;
  message: string;
}

function age(minutes: number): string {
  if (minutes < 90) return `${Math.round(minutes)} minutes`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} hours`;
  return `${Math.round(minutes / 1440)} days`;
}

export function describeBackups(health: BackupHealth, config: Config, now = new Date()): BackupStatus {
  const stores = configuredStores(config).map((s) => s.name);
  if (!config.backupKey && stores.length === 0) {
    return { state: 'off', alert: false, message: 'Backups are off: the whole study is on this server\'s disk only. Set BACKUP_KEY and BACKUP_DIR or BACKUP_S3_BUCKET (docs/backups.md).' };
  }
  if (!config.backupKey) return { state: 'half-configured', alert: true, message: `No backup runs: BACKUP_KEY is not set (destination ${stores.join(', ')}).` };
  if (stores.length === 0) return { state: 'half-configured', alert: true, message: 'No backup runs: BACKUP_KEY is set but no destination (BACKUP_DIR or BACKUP_S3_BUCKET).' };
  const last = health.lastSuccess;
  const minutes = last?.finishedAt ? (now.getTime() - last.finishedAt.getTime()) / 60_000 : undefined;
  const held = last ? ` It holds ${last.bundles} new bundles and ${last.tableRows} table rows, in ${last.files} files.` : '';
  if (health.failuresSince > 0 && health.lastFailure) {
    const since = last ? ` The last successful one finished ${age(minutes!)} ago.` : ' No backup has succeeded yet.';
    return { state: 'failing', alert: true, message: `${health.failuresSince === 1 ? 'The last backup run' : `The last ${health.failuresSince} backup runs`} failed: ${health.lastFailure.error ?? 'unknown error'}.${since} Runs are retried.` };
  }
  if (!last) return { state: 'waiting', alert: false, message: `No backup yet: the first one runs within 5 minutes, to ${stores.join(' and ')}.` };
  if (minutes! > config.backupMaxAgeMinutes) {
    return { state: 'overdue', alert: true, message: `The newest backup is ${age(minutes!)} old (limit ${age(config.backupMaxAgeMinutes)}): is the worker running?${held}` };
  }
  return { state: 'ok', alert: false, message: `The newest backup (${last.name}) finished ${age(minutes!)} ago, to ${last.destinations.join(' and ')}.${held} ${health.queued} bundles wait for the next one.` };
}
