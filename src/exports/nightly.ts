/**
 * The nightly export (webmunk-server.md §4.7): the previous day by `recorded`, every active
 * source, the Webmunk data types, in archives of SOURCES_PER_REPORT_JOB sources named
 * `<day>/<host>_<day>_<job>_<start day>.zip`. A day's batch is queued once (the batch key is
 * unique), so running the job again, on several machines, or after a restart adds nothing; days
 * missed while the server was down are queued on its next run.
 */
import type { Config } from '../config.ts';
import { ASIN_DETAILS_TYPE } from './asin-details.ts';
import type { Pool } from '../db/database.ts';
import { nightlySources } from './export-catalog.repository.ts';
import { batchJobs, insertReportJob, latestNightlyDay, requeueNightlyJob, type NewReportJob, type ReportJob } from './report-jobs.repository.ts';
import { isoInZone } from './zoned-time.ts';

/**
 * The original's list and order (webmunk-server.md §4.7): first pdk-external-amazon-item, the
 * participants' donated Amazon order histories (issue 20); and with webmunk-asin-details: the
 * products participants saw, with their Keepa data.
 */
export const NIGHTLY_TYPES = [
  'pdk-external-amazon-item', 'webmunk-extension-class-added', 'webmunk-extension-element-click', 'webmunk-extension-matched-rule',
  'webmunk-extension-element-show', 'webmunk-extension-element-hide', 'webmunk-extension-log-elements',
  'webmunk-extension-scroll-position', 'webmunk-visibility-export', 'webmunk-extension-action',
  'webmunk-amazon-order', 'webmunk-local-tasks', 'webmunk-asin-details',
];

/** Catch-up never queues more than this many missed days at once. */
const MAX_CATCH_UP_DAYS = 31;

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The archive host: PUBLIC_URL's host name (the original's first ALLOWED_HOSTS entry). */
export function exportHost(config: Pick<Config, 'publicUrl'>): string {
  return new URL(config.publicUrl).hostname;
}

/** The last day whose export is due at `now`: yesterday once NIGHTLY_EXPORT_TIME has passed today, else the day before. */
export function dueDay(now: Date, config: Pick<Config, 'timeZone' | 'nightlyExportTime'>): string {
  const local = isoInZone(now.getTime() * 1000, config.timeZone);
  const today = local.slice(0, 10);
  return addDays(today, local.slice(11, 16) >= config.nightlyExportTime ? -1 : -2);
}

export class NightlyRerunError extends Error {}

/**
 * Queues one day's batch `nightly:<day>`, once: a day already queued gets nothing more. With
 * `rerun` (dcs export nightly --date), the day's jobs are queued again instead, the same rows
 * with the sources and types of today: each keeps its id and file name, so its archive replaces
 * the last one in EXPORT_DIR and S3, and the night keeps one set of jobs. A night that has fewer
 * chunks of sources now than then keeps its later jobs, with no sources (their archives then
 * hold none, rather than points now in another archive). Refused while a job of that night runs.
 */
export async function queueNightlyDay(pool: Pool, config: Config, day: string, options: { rerun?: boolean } = {}): Promise<ReportJob[]> {
  const sources = await nightlySources(pool, config.nightlyExportExclude);
  const batch = `nightly:${day}`;
  // As the original: sources sorted descending, cut into chunks, each chunk sorted ascending.
  const descending = [...sources].reverse();
  const host = exportHost(config);
  const before = options.rerun ? await batchJobs(pool, batch) : [];
  const chunks = Math.max(1, Math.ceil(descending.length / config.sourcesPerReportJob), before.length);
  const jobs: ReportJob[] = [];
  for (let i = 0; i < chunks; i++) {
    const chunk = descending.slice(i * config.sourcesPerReportJob, (i + 1) * config.sourcesPerReportJob).reverse();
    const job: NewReportJob & { batch: string; sequence: number } = {
      requestedBy: 'nightly', batch, sequence: i + 1, selection: { all: true }, sources: chunk,
      // the product list is not per source: once a night, in the first archive
      types: i === 0 ? NIGHTLY_TYPES : NIGHTLY_TYPES.filter((type) => type !== ASIN_DETAILS_TYPE),
      from: day, to: day, dateType: 'recorded', format: 'tsv', nameFolder: `${day}/`, namePrefix: `${host}_${day}`,
      destinations: config.exportS3Bucket ? ['folder', 's3'] : ['folder'],
    };
    const queued = options.rerun ? await requeueNightlyJob(pool, job) : await insertReportJob(pool, job);
    if (options.rerun && !queued) {
      throw new NightlyRerunError(`Job ${before.find((b) => b.sequence === i + 1)?.id} of the ${day} export is running now; run this again when it is done.`);
    }
    if (queued) jobs.push(queued);
  }
  return jobs;
}

/** Queues every due day not queued yet (the first run queues only the latest). Returns the days queued. */
export async function queueDueNightlyExports(pool: Pool, config: Config, now = new Date()): Promise<string[]> {
  const due = dueDay(now, config);
  const latest = await latestNightlyDay(pool);
  const earliest = addDays(due, -(MAX_CATCH_UP_DAYS - 1));
  let day = latest ? addDays(latest, 1) : due;
  if (day < earliest) day = earliest;
  const queued: string[] = [];
  for (; day <= due; day = addDays(day, 1)) {
    if ((await queueNightlyDay(pool, config, day)).length > 0) queued.push(day);
  }
  return queued;
}
