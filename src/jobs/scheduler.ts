/**
 * The schedule: every periodic job runs from here, in each worker process (`dcs start`,
 * `dcs worker`), on pg-boss, a job queue in PostgreSQL (schema `pgboss`). pg-boss evaluates each
 * job's cron expression in TIME_ZONE and queues one run per tick however many workers there are;
 * a queue of policy `stately` holds at most one waiting run, so a slow job never piles up runs.
 * The run itself goes through runJob (its advisory lock, its history). Replaces the original's
 * crontab and lock files (webmunk-server.md §9, pdk-server.md §9.7).
 */
import PgBoss from 'pg-boss';
import { LOCKS, lockSession, unlockSession } from '../db/advisory-lock.ts';
import type { Pool } from '../db/database.ts';
import { cronOf, type JobContext, type JobDefinition } from '../job-contract.ts';
import { runJob } from './run-job.ts';

const QUEUE_PREFIX = 'dcs-';

/**
 * pg-boss creates a queue as a row and a partition table attached to `pgboss.job`, without a lock
 * of its own: processes creating the same queues at once deadlock ("deadlock detected" in
 * `create_queue`: three `dcs worker`s started together on an empty database lost one or two).
 * So each process sets up its queues (pg-boss's start, which creates its own cron queue, then
 * ours) holding this advisory lock, one process after another. A setup takes well under a second.
 */
/** A process that cannot get the lock in this time (another is stuck holding it) fails to start. */
const SETUP_LOCK_TIMEOUT = '60s';

export interface Scheduler {
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  /** How often each process looks for a due cron tick (pg-boss default 30 s; tests use 1). */
  cronMonitorIntervalSeconds?: number;
}

/** Runs `setup` while holding LOCKS.jobScheduleSetup on a connection of its own. */
async function underSetupLock<T>(pool: Pool, setup: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`SET lock_timeout = '${SETUP_LOCK_TIMEOUT}'`);
    await lockSession(client, LOCKS.jobScheduleSetup);
    try {
      return await setup();
    } finally {
      await unlockSession(client, LOCKS.jobScheduleSetup).catch((error: Error) => (broken = error));
    }
  } finally {
    await client.query('RESET lock_timeout').catch((error: Error) => (broken ??= error));
    client.release(broken); // a connection that failed here is closed (which also unlocks)
  }
}

export async function startScheduler(ctx: JobContext, jobs: readonly JobDefinition[], options: SchedulerOptions = {}): Promise<Scheduler> {
  const { pool, config, log } = ctx;
  const boss = new PgBoss({
    // Our pool, so the embedded database's socket, timeouts and error handling apply here too.
    db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
    schema: 'pgboss',
    // A queued run that no worker picked up within the hour is dropped; the next tick queues one.
    retentionMinutes: 60,
    ...(options.cronMonitorIntervalSeconds ? { cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds, cronWorkerIntervalSeconds: 1 } : {}),
  });
  boss.on('error', (error) => log.warn({ err: error }, 'job queue error'));

  const scheduled: JobDefinition[] = [];
  try {
    await underSetupLock(pool, async () => {
      await boss.start();
      for (const job of jobs) {
        const queue = QUEUE_PREFIX + job.name;
        await boss.createQueue(queue, { name: queue, policy: 'stately', retryLimit: 0, expireInSeconds: (job.timeoutMinutes ?? 15) * 60 });
        if (job.enabled && !job.enabled(config)) continue;
        await boss.schedule(queue, cronOf(job, config), {}, { tz: config.timeZone });
        scheduled.push(job);
      }
      // A job removed from the list, or disabled by configuration, must not keep firing.
      const names = new Set(scheduled.map((job) => QUEUE_PREFIX + job.name));
      for (const schedule of await boss.getSchedules()) {
        if (schedule.name.startsWith(QUEUE_PREFIX) && !names.has(schedule.name)) await boss.unschedule(schedule.name);
      }
    });
    for (const job of scheduled) {
      await boss.work(QUEUE_PREFIX + job.name, { pollingIntervalSeconds: 2, batchSize: 1 }, async () => {
        const result = await runJob(ctx, job, 'schedule');
        if (result.outcome === 'busy') log.info(`job ${job.name} is already running elsewhere; this tick is skipped`);
      });
    }
  } catch (error) {
    // A started pg-boss keeps timers and pollers going: left running, they would keep a process
    // that failed to start alive, and a supervisor would never restart it.
    await boss.stop({ graceful: false, close: false }).catch(() => undefined);
    throw error;
  }
  log.info({ jobs: scheduled.map((job) => job.name) }, 'job schedule running');
  return {
    async stop() {
      await boss.stop({ graceful: true, timeout: 30_000, close: false });
    },
  };
}
