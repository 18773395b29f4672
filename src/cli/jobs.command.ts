/** `dcs jobs [--json]` and `dcs run-job NAME`. */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { describeSchedule } from '../job-contract.ts';
import { findJob, JOBS } from '../jobs/job-list.ts';
import { latestJobRuns, listJobRuns } from '../jobs/job-runs.repository.ts';
import { runJob } from '../jobs/run-job.ts';
import type { Logger } from '../log.ts';

/** Every job: schedule, last run; then the recent history. */
export async function jobsCommand(pool: Pool, config: Config, json: boolean): Promise<number> {
  const latest = await latestJobRuns(pool);
  const jobs = JOBS.map((job) => ({
    name: job.name,
    description: job.description,
    schedule: describeSchedule(job, config),
    scheduled: job.enabled ? job.enabled(config) : true,
    lastRun: latest.get(job.name) ?? null,
  }));
  const recent = await listJobRuns(pool, { limit: 20 });
  if (json) {
    console.log(JSON.stringify({ jobs, recent }));
    return 0;
  }
  for (const job of jobs) {
    const run = job.lastRun;
    const last = run ? `${run.outcome} ${run.startedAt.toISOString()}${run.error ? `: ${run.error}` : ''}` : 'never run';
    console.log(`${job.name.padEnd(20)} ${(job.scheduled ? job.schedule : 'not scheduled (see its settings)').padEnd(32)} last: ${last}`);
  }
  console.log('\nrecent runs:');
  for (const run of recent) {
    const seconds = run.finishedAt ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1) + ' s' : '';
    console.log(`  ${run.startedAt.toISOString()}  ${run.job.padEnd(20)} ${run.outcome.padEnd(11)} ${seconds.padStart(8)}  ${run.trigger.padEnd(9)} ${run.error ?? JSON.stringify(run.counts ?? {})}`);
  }
  return 0;
}

/** Runs one job in the foreground. Exit 0 on success, 1 on failure, 3 when it is running elsewhere. */
export async function runJobCommand(ctx: { pool: Pool; config: Config; log: Logger }, name: string | undefined): Promise<number> {
  const job = name ? findJob(name) : undefined;
  if (!job) {
    console.error(`${name ? `Unknown job "${name}". ` : ''}Jobs: ${JOBS.map((j) => j.name).join(', ')}`);
    return 1;
  }
  const result = await runJob(ctx, job, 'cli');
  switch (result.outcome) {
    case 'succeeded':
      console.log(`${job.name} succeeded in ${result.seconds.toFixed(2)} s: ${JSON.stringify(result.counts)}`);
      return 0;
    case 'failed':
      console.error(`${job.name} failed after ${result.seconds.toFixed(1)} s: ${result.error.message}`);
      return 1;
    default:
      console.error(`${job.name} is running in another process right now; not started again.`);
      return 3;
  }
}
