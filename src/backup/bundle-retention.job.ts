/**
 * The job `bundle-retention` (BUNDLE_RETENTION_DAYS, docs/operations.md): drops processed raw
 * bundles once they are that old, never one that no backup holds yet while backups are
 * configured. Their points stay; only rebuilding them (`dcs reprocess`) is no longer possible.
 * Deletes in batches, a transaction each, so uploads and processing never wait long.
 */
import { withTransaction } from '../db/transaction.ts';
import type { JobDefinition } from '../job-contract.ts';
import { backupsConfigured } from './backup.job.ts';
import { dropOldBundles } from './retention.repository.ts';

const BATCH = 5_000;

export const bundleRetentionJob: JobDefinition = {
  name: 'bundle-retention',
  description: 'Drops processed raw bundles older than BUNDLE_RETENTION_DAYS (never before a backup holds them, when backups are on)',
  schedule: { everyMinutes: 30 },
  enabled: (config) => config.bundleRetentionDays !== undefined,
  timeoutMinutes: 60,
  async run({ pool, config }) {
    const days = config.bundleRetentionDays;
    if (days === undefined) return { dropped: 0 };
    const onlyBackedUp = backupsConfigured(config);
    let dropped = 0;
    for (let batch = BATCH; batch === BATCH;) {
      batch = await withTransaction(pool, (client) => dropOldBundles(client, days, onlyBackedUp, BATCH));
      dropped += batch;
    }
    return { dropped };
  },
};
