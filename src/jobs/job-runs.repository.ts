/** The run history of scheduled jobs (table job_runs) and their cumulative totals (job_totals). */
import os from 'node:os';
import type { QueryResultRow } from 'pg';
import type { Pool, PoolClient } from '../db/database.ts';
import type { JobCounts } from '../job-contract.ts';

export type JobTrigger = 'schedule' | 'cli' | 'dashboard';
export type JobOutcome = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface JobRun {
  id: number;
  job: string;
  trigger: JobTrigger;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: JobOutcome;
  counts: JobCounts | null;
  error: string | null;
  host: string | null;
  pid: number | null;
}

function rowToJobRun(row: QueryResultRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    trigger: row.trigger,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome,
    counts: row.counts,
    error: row.error,
    host: row.host,
    pid: row.pid,
  };
}

/**
 * Records the start of a run. The caller holds the job's lock, so any other run of this job still
 * marked running belongs to a process that died: it is marked interrupted.
 */
export async function insertJobRun(db: Pool | PoolClient, job: string, trigger: JobTrigger): Promise<number> {
  await db.query(
    `UPDATE job_runs SET outcome = 'interrupted', finished_at = now(), error = 'The process running it stopped before it finished.'
     WHERE job = $1 AND outcome = 'running'`,
    [job],
  );
  const { rows } = await db.query(
    'INSERT INTO job_runs (job, trigger, host, pid) VALUES ($1, $2, $3, $4) RETURNING id',
    [job, trigger, os.hostname(), process.pid],
  );
  return rows[0].id;
}

export async function finishJobRun(db: Pool | PoolClient, id: number, result: { outcome: 'succeeded' | 'failed'; counts?: JobCounts; error?: string }): Promise<void> {
  await db.query(
    `WITH run AS (
       UPDATE job_runs SET finished_at = clock_timestamp(), outcome = $2, counts = $3, error = $4 WHERE id = $1
       RETURNING job, extract(epoch FROM finished_at - started_at) AS seconds
     )
     INSERT INTO job_totals AS t (job, runs, failures, seconds)
     SELECT job, 1, CASE WHEN $2 = 'failed' THEN 1 ELSE 0 END, seconds FROM run
     ON CONFLICT (job) DO UPDATE SET runs = t.runs + 1, failures = t.failures + excluded.failures, seconds = t.seconds + excluded.seconds`,
    [id, result.outcome, result.counts ? JSON.stringify(result.counts) : null, result.error ?? null],
  );
}

/** The newest runs, of one job or of all. */
export async function listJobRuns(db: Pool, options: { job?: string; limit?: number } = {}): Promise<JobRun[]> {
  const { rows } = await db.query(
    `SELECT *, id::float8 AS id FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, job_runs.id DESC LIMIT $2`,
    [options.job ?? null, options.limit ?? 50],
  );
  return rows.map(rowToJobRun);
}

/** The latest run of each job. */
export async function latestJobRuns(db: Pool): Promise<Map<string, JobRun>> {
  const { rows } = await db.query('SELECT DISTINCT ON (job) *, id::float8 AS id FROM job_runs ORDER BY job, started_at DESC, job_runs.id DESC');
  return new Map(rows.map((row) => [row.job, rowToJobRun(row)]));
}

export interface JobTotals {
  job: string;
  runs: number;
  failures: number;
  seconds: number;
}

export async function listJobTotals(db: Pool): Promise<JobTotals[]> {
  const { rows } = await db.query('SELECT job, runs::float8 AS runs, failures::float8 AS failures, seconds FROM job_totals ORDER BY job');
  return rows;
}
