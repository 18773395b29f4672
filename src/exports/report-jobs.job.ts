/**
 * `report-jobs`: runs queued export jobs one after another until none is left, and picks up
 * any whose runner died (its heartbeat stopped). One runner at a time across all machines (the
 * job lock); exports can take hours, hence the long timeout.
 */
import type { JobDefinition } from '../job-contract.ts';
import { claimNextReportJob } from './report-jobs.repository.ts';
import { runReportJob } from './run-report-job.ts';

export const reportJobsJob: JobDefinition = {
  name: 'report-jobs',
  description: 'Writes queued export archives (dashboard requests, nightly export) and stores them.',
  schedule: { everyMinutes: 1 },
  // pg-boss's longest expiry is 24 hours; a run still going then keeps its lock, so the queue's
  // next ticks find it busy and wait.
  timeoutMinutes: 23 * 60,
  async run({ pool, readPool, config, log }) {
    const counts = { done: 0, failed: 0 };
    for (let job = await claimNextReportJob(pool); job; job = await claimNextReportJob(pool)) {
      counts[await runReportJob({ pool, readPool, config, log }, job)] += 1;
    }
    return counts;
  },
};
