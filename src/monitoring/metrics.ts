/**
 * The Prometheus metrics of /metrics: one Registry per app (never prom-client's global one), whose
 * metrics read the database when scraped. One scrape runs one set of queries, shared by all metrics.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { readBackupHealth, type BackupHealth } from '../backup/backup-runs.repository.ts';
import { describeBackups } from '../backup/backup-status.ts';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { spoolStats } from '../ingest/spool.ts';
import { JOBS } from '../jobs/job-list.ts';
import { BUNDLE_COUNTS_SQL } from './bundle-counts.repository.ts';
import { readDeadTuples } from './dead-tuples.ts';
import { COUNT_LIMIT, countDefaultPartitionRows } from './default-partition.ts';
import { readProcessingLag } from './processing-lag.ts';

interface JobValues {
  job: string;
  runs: number;
  failures: number;
  seconds: number;
  lastSeconds: number | null;
  lastSuccess: number | null;
}

export interface MetricValues {
  bundlesReceived: number;
  bundlesPending: number;
  bundlesErrored: number;
  pointsStored: number;
  processingLagSeconds: number;
  /** undecodable uploads kept, and those refused beyond ERRORED_UPLOADS_MAX_BYTES */
  erroredUploadBytes: number;
  erroredUploadsRefused: number;
  jobs: JobValues[];
  backup: BackupHealth;
  /** dead rows of the queue (bundles) and of data_points, per table */
  deadTuples: { table: string; dead: number }[];
  /** rows in each partitioned table's DEFAULT partition, counted up to COUNT_LIMIT + 1 */
  defaultPartitionRows: { table: string; rows: number }[];
}

/** This process's upload admission (ingest/admission.ts): bytes in flight and uploads refused. */
export interface UploadAdmissionCounts {
  inflightBytes: number;
  refusedBusy: number;
  refusedRateLimited: number;
}

/** The numbers behind /metrics, read now. */
export async function readMetricValues(pool: Pool): Promise<MetricValues> {
  // The bundle counters (bundle-counts.repository.ts), not count(*) over every bundle.
  const totals = pool.query(`
    WITH bundle_totals AS (${BUNDLE_COUNTS_SQL})
    SELECT
      b.received, b.pending, b.errored,
      (SELECT coalesce(sum(point_count), 0) FROM data_sources)::bigint AS points,
      (SELECT stored_bytes FROM errored_upload_totals) AS errored_bytes,
      (SELECT refused_uploads FROM errored_upload_totals) AS errored_refused
    FROM bundle_totals b`);
  const jobs = pool.query(
    `WITH names AS (SELECT unnest($1::text[]) AS job UNION SELECT job FROM job_totals)
     SELECT n.job, coalesce(t.runs, 0) AS runs, coalesce(t.failures, 0) AS failures, coalesce(t.seconds, 0) AS seconds,
            l.seconds AS last_seconds, s.at AS last_success
     FROM names n
     LEFT JOIN job_totals t ON t.job = n.job
     LEFT JOIN LATERAL (
       SELECT extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds FROM job_runs r
       WHERE r.job = n.job AND r.outcome IN ('succeeded', 'failed') ORDER BY r.started_at DESC LIMIT 1
     ) l ON true
     LEFT JOIN LATERAL (
       SELECT extract(epoch FROM r.finished_at)::float8 AS at FROM job_runs r
       WHERE r.job = n.job AND r.outcome = 'succeeded' ORDER BY r.started_at DESC LIMIT 1
     ) s ON true
     ORDER BY n.job`,
    [JOBS.map((job) => job.name)],
  );
  const [{ rows: [t] }, { rows: jobRows }, lag, backup, deadTuples, defaultPartitionRows] = await Promise.all([
    totals, jobs, readProcessingLag(pool), readBackupHealth(pool), readDeadTuples(pool), countDefaultPartitionRows(pool),
  ]);
  return {
    bundlesReceived: t.received,
    bundlesPending: t.pending,
    bundlesErrored: t.errored,
    pointsStored: t.points,
    processingLagSeconds: lag.seconds,
    erroredUploadBytes: Number(t.errored_bytes ?? 0),
    erroredUploadsRefused: Number(t.errored_refused ?? 0),
    jobs: jobRows.map((r) => ({ job: r.job, runs: r.runs, failures: r.failures, seconds: r.seconds, lastSeconds: r.last_seconds, lastSuccess: r.last_success })),
    backup,
    deadTuples,
    defaultPartitionRows,
  };
}

/** A registry with the dcs_* metrics, collected from `pool` at each scrape. */
export function createMetricsRegistry(pool: Pool, config: Config): Registry {
  const registry = new Registry();
  // All the metrics of one scrape collect at once; they share one read.
  let reading: Promise<MetricValues> | undefined;
  const read = () => (reading ??= readMetricValues(pool).finally(() => { reading = undefined; }));

  const counter = (name: string, help: string, value: (v: MetricValues) => number) =>
    new Counter({ name, help, registers: [registry], async collect() { const v = await read(); this.reset(); this.inc(value(v)); } });
  const gauge = (name: string, help: string, value: (v: MetricValues) => number) =>
    new Gauge({ name, help, registers: [registry], async collect() { this.set(value(await read())); } });
  const jobCounter = (name: string, help: string, value: (j: JobValues) => number) =>
    new Counter({ name, help, labelNames: ['job'], registers: [registry], async collect() {
      const v = await read();
      this.reset();
      for (const job of v.jobs) this.inc({ job: job.job }, value(job));
    } });
  // Series only for jobs that have a value: a job that never ran has no last duration or success.
  const jobGauge = (name: string, help: string, value: (j: JobValues) => number | null) =>
    new Gauge({ name, help, labelNames: ['job'], registers: [registry], async collect() {
      const v = await read();
      this.reset();
      for (const job of v.jobs) {
        const x = value(job);
        if (x !== null) this.set({ job: job.job }, x);
      }
    } });

  counter('dcs_bundles_received_total', 'Uploads (bundles) stored.', (v) => v.bundlesReceived);
  counter('dcs_bundles_processed_total', 'Bundles processed into data points.', (v) => v.bundlesReceived - v.bundlesPending - v.bundlesErrored);
  counter('dcs_bundles_errored_total', 'Bundles that could not be decoded or failed processing.', (v) => v.bundlesErrored);
  gauge('dcs_bundles_pending', 'Bundles waiting to be processed.', (v) => v.bundlesPending);
  counter('dcs_points_stored_total', 'Data points stored (sum of the per-source counts).', (v) => v.pointsStored);
  gauge('dcs_errored_upload_bytes', 'Bytes of undecodable uploads kept (limit: ERRORED_UPLOADS_MAX_BYTES).', (v) => v.erroredUploadBytes);
  counter('dcs_errored_uploads_not_kept_total', 'Undecodable uploads answered but not kept: ERRORED_UPLOADS_MAX_BYTES was reached.', (v) => v.erroredUploadsRefused);
  gauge('dcs_processing_lag_seconds', 'Age of the oldest pending bundle, 0 when none is pending.', (v) => v.processingLagSeconds);
  jobCounter('dcs_job_runs_total', 'Finished runs of each scheduled job.', (j) => j.runs);
  jobCounter('dcs_job_failures_total', 'Failed runs of each scheduled job.', (j) => j.failures);
  jobCounter('dcs_job_duration_seconds_total', 'Time spent in runs of each scheduled job.', (j) => j.seconds);
  jobGauge('dcs_job_last_duration_seconds', 'Duration of the latest finished run of each job.', (j) => j.lastSeconds);
  jobGauge('dcs_job_last_success_timestamp_seconds', 'When the latest successful run of each job finished (Unix time).', (j) => j.lastSuccess);
  gauge('dcs_backup_alert', '1 while backups need attention (half set up, failing, or older than BACKUP_MAX_AGE_MINUTES), else 0.', (v) => (describeBackups(v.backup, config).alert ? 1 : 0));
  gauge('dcs_backup_last_success_timestamp_seconds', 'When the newest successful backup finished (Unix time; 0: none yet).', (v) => (v.backup.lastSuccess?.finishedAt?.getTime() ?? 0) / 1000);
  gauge('dcs_backup_failures_since_success', 'Backup runs failed since the newest successful one.', (v) => v.backup.failuresSince);
  gauge('dcs_backup_queued_bundles', 'Bundles not yet in a backup.', (v) => v.backup.queued);
  new Gauge({ name: 'dcs_table_dead_tuples', help: 'Dead rows awaiting vacuum (pg_stat_user_tables.n_dead_tup, partitions summed): bundles is the processing queue, whose dead rows slow its claims.', labelNames: ['table'], registers: [registry], async collect() {
    const v = await read();
    this.reset();
    for (const { table, dead } of v.deadTuples) this.set({ table }, dead);
  } });
  new Gauge({ name: 'dcs_partition_default_rows', help: `Rows in the DEFAULT partition (dated past the premade months, or late for an archived month): any is an alert (docs/partitions.md). Counted up to ${COUNT_LIMIT + 1}.`, labelNames: ['table'], registers: [registry], async collect() {
    const v = await read();
    this.reset();
    for (const { table, rows } of v.defaultPartitionRows) this.set({ table }, rows);
  } });
  return registry;
}

/**
 * The metrics that do not need the database, so /metrics still answers during an outage: whether
 * the database answered this scrape, and the upload spool that fills meanwhile.
 */
export function createLocalMetricsRegistry(spoolDir: string, databaseUp: () => boolean, admission?: () => UploadAdmissionCounts): Registry {
  const registry = new Registry();
  let reading: Promise<{ files: number; bytes: number }> | undefined;
  const read = () => (reading ??= spoolStats(spoolDir).finally(() => { reading = undefined; }));
  new Gauge({ name: 'dcs_database_up', help: '1 when the database answered this scrape, 0 when it could not be reached.', registers: [registry], collect() { this.set(databaseUp() ? 1 : 0); } });
  new Gauge({ name: 'dcs_spooled_uploads', help: 'Uploads kept in the spool (SPOOL_DIR) until the database takes them.', registers: [registry], async collect() { this.set((await read()).files); } });
  new Gauge({ name: 'dcs_spool_bytes', help: 'Size of the uploads in the spool.', registers: [registry], async collect() { this.set((await read()).bytes); } });
  if (admission) {
    new Gauge({ name: 'dcs_upload_inflight_bytes', help: 'Upload bytes this process holds now (limit: UPLOAD_MAX_INFLIGHT_BYTES).', registers: [registry], collect() { this.set(admission().inflightBytes); } });
    new Counter({ name: 'dcs_uploads_refused_total', help: 'Uploads this process refused before reading them (the client sends them again): busy = UPLOAD_MAX_INFLIGHT_BYTES, rate-limited = UPLOAD_RATE_PER_MINUTE or UPLOAD_BYTES_PER_MINUTE.', labelNames: ['reason'], registers: [registry], collect() {
      const counts = admission();
      this.reset();
      this.inc({ reason: 'busy' }, counts.refusedBusy);
      this.inc({ reason: 'rate-limited' }, counts.refusedRateLimited);
    } });
  }
  return registry;
}
