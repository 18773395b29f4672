/**
 * `nightly-export`: queues the previous day's export once NIGHTLY_EXPORT_TIME has passed, and
 * any day missed while the server was down. It runs every 15 minutes rather than once at that
 * time, so a server started late still exports; queueing is idempotent. The report-jobs job
 * writes the archives.
 */
import type { JobDefinition } from '../job-contract.ts';
import { queueDueNightlyExports } from './nightly.ts';

export const nightlyExportJob: JobDefinition = {
  name: 'nightly-export',
  description: 'Queues the previous day\'s export (by receipt time) after NIGHTLY_EXPORT_TIME, catching up missed days.',
  schedule: { everyMinutes: 15 },
  enabled: (config) => config.nightlyExport,
  async run({ pool, config }) {
    const days = await queueDueNightlyExports(pool, config);
    return { days_queued: days.length };
  },
};
