/**
 * Runs one job now, at most once at a time across every process on the database: the run holds
 * a PostgreSQL advisory lock (per job name) on a connection of its own for as long as it lasts,
 * so a second `dcs worker`, a `dcs run-job` or the dashboard finds it taken and does not start
 * it again. A process that dies loses its connection and so its lock; its run is marked
 * interrupted by the next one. Every run is recorded in job_runs.
 */
import { LOCKS, tryLockSession, unlockSession } from '../db/advisory-lock.ts';
import { coerceError } from '../errors.ts';
import type { JobContext, JobCounts, JobDefinition } from '../job-contract.ts';
import { finishJobRun, insertJobRun, type JobTrigger } from './job-runs.repository.ts';


export type RunResult =
  | { outcome: 'succeeded'; runId: number; counts: JobCounts; seconds: number }
  | { outcome: 'failed'; runId: number; error: Error; seconds: number }
  /** another process is running this job right now */
  | { outcome: 'busy' };

export async function runJob(ctx: JobContext, job: JobDefinition, trigger: JobTrigger): Promise<RunResult> {
  const lockClient = await ctx.pool.connect();
  let locked = false;
  try {
    locked = await tryLockSession(lockClient, LOCKS.job(job.name));
    if (!locked) return { outcome: 'busy' };
    const startedAt = performance.now();
    const runId = await insertJobRun(lockClient, job.name, trigger);
    const log = ctx.log.child({ job: job.name, run: runId });
    try {
      const counts = await job.run({ ...ctx, log });
      const seconds = (performance.now() - startedAt) / 1000;
      await finishJobRun(lockClient, runId, { outcome: 'succeeded', counts });
      log.info({ counts, seconds }, `job ${job.name} done`);
      return { outcome: 'succeeded', runId, counts, seconds };
    } catch (thrown) {
      const error = coerceError(thrown);
      const seconds = (performance.now() - startedAt) / 1000;
      log.error({ err: error }, `job ${job.name} failed`);
      await finishJobRun(lockClient, runId, { outcome: 'failed', error: error.message }).catch((e) => log.error({ err: e }, 'could not record the failure'));
      return { outcome: 'failed', runId, error, seconds };
    }
  } finally {
    if (locked) await unlockSession(lockClient, LOCKS.job(job.name)).catch(() => undefined);
    lockClient.release();
  }
}
