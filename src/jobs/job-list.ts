/**
 * Every periodic job, in one list: the schedule (scheduler.ts), `dcs run-job`, `dcs jobs`, the
 * dashboard and /metrics all read it. Later capabilities add their jobs here.
 */
import { asinHarvestJob } from '../amazon/asin-harvest.job.ts';
import { keepaEnrichJob } from '../amazon/keepa-enrich.job.ts';
import { partitionsJob } from '../archive/partitions.job.ts';
import { backupJob } from '../backup/backup.job.ts';
import { dataQualityJob } from '../data-quality/data-quality.job.ts';
import { bundleRetentionJob } from '../backup/bundle-retention.job.ts';
import { donationsJob } from '../donations/donations.job.ts';
import { nightlyExportJob } from '../exports/nightly-export.job.ts';
import { reportJobsJob } from '../exports/report-jobs.job.ts';
import { alertDigestJob } from '../monitoring/alert-digest.job.ts';
import { serverHealthJob } from '../monitoring/server-health.job.ts';
import { sourceStatisticsJob } from '../monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../monitoring/status-checks.job.ts';
import type { JobDefinition } from '../job-contract.ts';

export const JOBS: readonly JobDefinition[] = [sourceStatisticsJob, statusChecksJob, alertDigestJob, serverHealthJob, nightlyExportJob, reportJobsJob, asinHarvestJob, keepaEnrichJob, backupJob, bundleRetentionJob, donationsJob, dataQualityJob, partitionsJob];

export function findJob(name: string): JobDefinition | undefined {
  return JOBS.find((job) => job.name === name);
}
