/**
 * The schedule: every periodic job runs from here, in each worker process (`dcs start`,
 * `dcs worker`), on pg-boss, a job queue in PostgreSQL (schema `pgboss`). pg-boss evaluates each
 * job's cron expression in TIME_ZONE and queues one run per tick however many workers there are;
 * a queue of policy `stately` holds at most one waiting run, so a slow job never piles up runs.
 * The run itself goes through runJob (its advisory lock, its history). Replaces the original's
 * crontab and lock files (webmunk-server.md §9, pdk-server.md §9.7).
 */
import PgBoss from 'pg-boss';
import type { JobContext, JobDefinition } from './job.ts';
import { cronOf } from './job.ts';
import { runJob } from './run-job.ts';

const QUEUE_PREFIX = 'dcs-';

export interface Scheduler {
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  /** How often each process looks for a due cron tick (pg-boss default 30 s; tests use 1). */
  cronMonitorIntervalSeconds?: number;
}

export async function startScheduler(ctx: JobContext, jobs: readonly JobDefinition[], options: SchedulerOptions = {}): Promise<Scheduler> {
  const { pool, config, log } = ctx;
  const boss = new PgBoss({
    // Our pool, so the embedded database's socket, timeouts and error handling apply here too.
    db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values as any[]) },
    schema: 'pgboss',
    // A queued run that no worker picked up within the hour is dropped; the next tick queues one.
    retentionMinutes: 60,
    ...(options.cronMonitorIntervalSeconds ? { cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds, cronWorkerIntervalSeconds: 1 } : {}),
  });
  boss.on('error', (error) => log.warn({ err: error }, 'job queue error'));
  await boss.start();

  const scheduled = new Set<string>();
  for (const job of jobs) {
    const queue = QUEUE_PREFIX + job.name;
    await boss.createQueue(queue, { name: queue, policy: 'stately', retryLimit: 0, expireInSeconds: (job.timeoutMinutes ?? 15) * 60 });
    if (job.enabled && !job.enabled(config)) continue;
    await boss.schedule(queue, cronOf(job, config), {}, { tz: config.timeZone });
    scheduled.add(queue);
    await boss.work(queue, { pollingIntervalSeconds: 2, batchSize: 1 }, async () => {
      const result = await runJob(ctx, job, 'schedule');
      if (result.outcome === 'busy') log.info(`job ${job.name} is already running elsewhere; this tick is skipped`);
    });
  }
  // A job removed from the list, or disabled by configuration, must not keep firing.
  for (const schedule of await boss.getSchedules()) {
    if (schedule.name.startsWith(QUEUE_PREFIX) && !scheduled.has(schedule.name)) await boss.unschedule(schedule.name);
  }
  log.info({ jobs: [...scheduled].map((q) => q.slice(QUEUE_PREFIX.length)) }, 'job schedule running');
  return {
    async stop() {
      await boss.stop({ graceful: true, timeout: 30_000, close: false });
    },
  };
}
