/**
 * Report jobs (table report_jobs): requested, claimed, advanced, finished or failed, retried.
 * The queue is the table itself: a runner claims the oldest queued job with SKIP LOCKED, and a
 * job whose heartbeat stopped (its process died) counts as queued again.
 */
import type { QueryResultRow } from 'pg';
import type { Pool } from '../db/database.ts';
import type { DateType, ExportFormat, ExportRequest } from './export-request.ts';

/** A running job whose heartbeat is older than this was interrupted (runners beat every 30 s). */
export const STALE_AFTER_SECONDS = 120;

export type SourceSelection = { all: true } | { groups: string[] } | { sources: string[] };
export type ReportJobState = 'queued' | 'running' | 'done' | 'failed';

/** What to export (ExportRequest), and who asked, how it is named and where it goes. */
export interface NewReportJob extends ExportRequest {
  requestedBy: string;
  batch?: string;
  sequence?: number;
  selection: SourceSelection;
  nameFolder?: string;
  namePrefix: string;
  destinations: readonly string[];
  /** the job this one runs again (dcs export rerun, the Re-run button) */
  rerunOf?: number;
}

export interface ReportJob {
  id: number;
  requestedBy: string;
  requestedAt: Date;
  batch: string | null;
  sequence: number | null;
  selection: SourceSelection;
  sources: string[];
  types: string[];
  from: string | null;
  to: string | null;
  dateType: DateType;
  format: ExportFormat;
  nameFolder: string;
  namePrefix: string;
  fileName: string | null;
  destinations: string[];
  state: ReportJobState;
  attempts: number;
  pointsWritten: number;
  typesDone: number;
  sourcesDone: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  fileBytes: number | null;
  storedAt: string[];
  rerunOf: number | null;
}

const COLUMNS = `id, requested_by, requested_at, batch, sequence, selection, sources, types,
  to_char(date_from, 'YYYY-MM-DD') AS date_from, to_char(date_to, 'YYYY-MM-DD') AS date_to, date_type, format,
  name_folder, name_prefix, file_name, destinations, state, attempts, points_written, types_done, sources_done,
  started_at, finished_at, error, file_bytes, stored_at, rerun_of`;

function toJob(row: QueryResultRow): ReportJob {
  return {
    id: Number(row.id), requestedBy: row.requested_by, requestedAt: row.requested_at, batch: row.batch, sequence: row.sequence,
    selection: row.selection, sources: row.sources, types: row.types, from: row.date_from, to: row.date_to,
    dateType: row.date_type, format: row.format, nameFolder: row.name_folder, namePrefix: row.name_prefix, fileName: row.file_name,
    destinations: row.destinations, state: row.state, attempts: row.attempts, pointsWritten: Number(row.points_written),
    typesDone: row.types_done, sourcesDone: row.sources_done, startedAt: row.started_at, finishedAt: row.finished_at,
    error: row.error, fileBytes: row.file_bytes === null ? null : Number(row.file_bytes), storedAt: row.stored_at,
    rerunOf: row.rerun_of === null ? null : Number(row.rerun_of),
  };
}

/** Adds a job; returns it, or undefined when its (batch, sequence) exists already. */
export async function insertReportJob(pool: Pool, job: NewReportJob, state: 'queued' | 'running' = 'queued'): Promise<ReportJob | undefined> {
  const { rows } = await pool.query(
    `INSERT INTO report_jobs (requested_by, batch, sequence, selection, sources, types, date_from, date_to, date_type, format,
       name_folder, name_prefix, destinations, state, started_at, heartbeat_at, attempts, rerun_of)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
       CASE WHEN $14 = 'running' THEN now() END, CASE WHEN $14 = 'running' THEN now() END, CASE WHEN $14 = 'running' THEN 1 ELSE 0 END, $15)
     ON CONFLICT (batch, sequence) WHERE batch IS NOT NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [job.requestedBy, job.batch ?? null, job.sequence ?? null, JSON.stringify(job.selection), job.sources, job.types,
      job.from ?? null, job.to ?? null, job.dateType, job.format, job.nameFolder ?? '', job.namePrefix, job.destinations, state, job.rerunOf ?? null],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

/**
 * A nightly job queued again (dcs export nightly --date): the night's job of this sequence, the
 * same row (id, file name) with the new sources and types, queued from the start; or a new row
 * if the night had fewer jobs. Undefined when that job is running now (its heartbeat is fresh).
 */
export async function requeueNightlyJob(pool: Pool, job: NewReportJob & { batch: string; sequence: number }): Promise<ReportJob | undefined> {
  const { rows } = await pool.query(
    `INSERT INTO report_jobs (requested_by, batch, sequence, selection, sources, types, date_from, date_to, date_type, format,
       name_folder, name_prefix, destinations)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (batch, sequence) WHERE batch IS NOT NULL DO UPDATE SET
       requested_by = EXCLUDED.requested_by, requested_at = now(), selection = EXCLUDED.selection, sources = EXCLUDED.sources,
       types = EXCLUDED.types, destinations = EXCLUDED.destinations, state = 'queued', error = NULL, started_at = NULL,
       heartbeat_at = NULL, finished_at = NULL, points_written = 0, types_done = 0, sources_done = 0
     WHERE report_jobs.state <> 'running' OR report_jobs.heartbeat_at < now() - make_interval(secs => $14)
     RETURNING ${COLUMNS}`,
    [job.requestedBy, job.batch, job.sequence, JSON.stringify(job.selection), job.sources, job.types, job.from ?? null, job.to ?? null,
      job.dateType, job.format, job.nameFolder ?? '', job.namePrefix, job.destinations, STALE_AFTER_SECONDS],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

/** The jobs of a batch, by sequence. */
export async function batchJobs(pool: Pool, batch: string): Promise<ReportJob[]> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM report_jobs WHERE batch = $1 ORDER BY sequence`, [batch]);
  return rows.map(toJob);
}

/**
 * Claims the next job to run: the oldest queued one, or one whose runner stopped beating.
 * Jobs of `dcs export` (a `file:` destination) are not run by the server: if their process
 * died, they are marked failed instead.
 */
export async function claimNextReportJob(pool: Pool, onlyIds?: readonly number[]): Promise<ReportJob | undefined> {
  await pool.query(
    `UPDATE report_jobs SET state = 'failed', finished_at = now(), error = 'the dcs export process stopped before the archive was finished'
     WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1)
       AND EXISTS (SELECT 1 FROM unnest(destinations) d WHERE d LIKE 'file:%')`,
    [STALE_AFTER_SECONDS],
  );
  const { rows } = await pool.query(
    `UPDATE report_jobs SET state = 'running', attempts = attempts + 1, started_at = now(), heartbeat_at = now(),
       finished_at = NULL, error = NULL, points_written = 0, types_done = 0, sources_done = 0
     WHERE id = (
       SELECT id FROM report_jobs
       WHERE (state = 'queued' OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => $1)))
         AND ($2::int8[] IS NULL OR id = ANY($2::int8[]))
       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [STALE_AFTER_SECONDS, onlyIds ?? null],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

export async function setReportJobFileName(pool: Pool, id: number, fileName: string): Promise<void> {
  await pool.query('UPDATE report_jobs SET file_name = $2 WHERE id = $1', [id, fileName]);
}

export async function recordReportJobProgress(pool: Pool, id: number, progress: { points: number; typesDone: number; sourcesDone: number }): Promise<void> {
  await pool.query(
    `UPDATE report_jobs SET points_written = $2, types_done = $3, sources_done = $4, heartbeat_at = now() WHERE id = $1 AND state = 'running'`,
    [id, progress.points, progress.typesDone, progress.sourcesDone],
  );
}

export async function finishReportJob(pool: Pool, id: number, result: { points: number; fileBytes: number; storedAt: string[] }): Promise<void> {
  await pool.query(
    `UPDATE report_jobs SET state = 'done', finished_at = now(), points_written = $2, types_done = cardinality(types),
       sources_done = cardinality(sources), file_bytes = $3, stored_at = $4, error = NULL WHERE id = $1`,
    [id, result.points, result.fileBytes, result.storedAt],
  );
}

export async function failReportJob(pool: Pool, id: number, error: string, storedAt: string[] = []): Promise<void> {
  await pool.query(`UPDATE report_jobs SET state = 'failed', finished_at = now(), error = $2, stored_at = $3 WHERE id = $1`, [id, error, storedAt]);
}

/** Queues a failed job again; false when it is not failed (or does not exist). */
export async function retryReportJob(pool: Pool, id: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE report_jobs SET state = 'queued', error = NULL, finished_at = NULL
     WHERE id = $1 AND state = 'failed' AND NOT EXISTS (SELECT 1 FROM unnest(destinations) d WHERE d LIKE 'file:%')`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}

export async function getReportJob(pool: Pool, id: number): Promise<ReportJob | undefined> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM report_jobs WHERE id = $1`, [id]);
  return rows[0] ? toJob(rows[0]) : undefined;
}

export async function listReportJobs(pool: Pool, limit = 50): Promise<ReportJob[]> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM report_jobs ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map(toJob);
}

/** The latest day a nightly batch was queued for (YYYY-MM-DD), if any. */
export async function latestNightlyDay(pool: Pool): Promise<string | undefined> {
  const { rows } = await pool.query(`SELECT max(substring(batch FROM 9 FOR 10)) AS day FROM report_jobs WHERE batch LIKE 'nightly:%'`);
  return rows[0].day ?? undefined;
}
