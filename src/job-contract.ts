/**
 * What a scheduled job is: a name (used by `dcs run-job`, `dcs jobs`, the dashboard and
 * /metrics), when it runs, and the task itself. Capabilities export their jobs as `JobDefinition`s;
 * jobs/job-list.ts lists them, and jobs/scheduler.ts runs them. A task returns counts (what it
 * did, for the run history) and throws on failure.
 *
 * A leaf: it imports only the configuration's type, so every capability may import it while
 * jobs/ imports the capabilities' jobs, without a cycle.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';

export type JobSchedule =
  /** every N minutes, on the clock (N divides 60: 1, 5, 15, ...) */
  | { everyMinutes: number }
  /** once a day at HH:MM in TIME_ZONE; `enabled` false leaves it unscheduled (e.g. no recipients) */
  | { dailyAt: (config: Config) => string };

export interface JobContext {
  pool: Pool;
  /** DATABASE_READ_URL's pool when set (reads that may lag: exports); unset or `pool`: the primary */
  readPool?: Pool;
  config: Config;
  log: Logger;
}

export type JobCounts = Record<string, number>;

export interface JobDefinition {
  name: string;
  description: string;
  schedule: JobSchedule;
  /** false: not scheduled with this configuration (it can still be run by hand). Default true. */
  enabled?: (config: Config) => boolean;
  /** A run still going after this long is presumed stuck by the queue. Default 15 minutes. */
  timeoutMinutes?: number;
  run(ctx: JobContext): Promise<JobCounts>;
}

/** The schedule as a cron expression (evaluated in TIME_ZONE by the scheduler). */
export function cronOf(job: JobDefinition, config: Config): string {
  const { schedule } = job;
  if ('everyMinutes' in schedule) {
    return schedule.everyMinutes === 1 ? '* * * * *' : `*/${schedule.everyMinutes} * * * *`;
  }
  const [hours, minutes] = schedule.dailyAt(config).split(':').map(Number);
  return `${minutes} ${hours} * * *`;
}

/** "every 5 minutes", "daily at 08:00 (UTC)": how `dcs jobs` and the dashboard describe it. */
export function describeSchedule(job: JobDefinition, config: Config): string {
  const { schedule } = job;
  if ('everyMinutes' in schedule) return schedule.everyMinutes === 1 ? 'every minute' : `every ${schedule.everyMinutes} minutes`;
  return `daily at ${schedule.dailyAt(config)} (${config.timeZone})`;
}
