/**
 * Two worker processes' schedules on one database (two pools, two pg-boss instances): each tick
 * of a job runs once, never twice and never overlapping. Waits for real cron ticks (up to about
 * two minutes), so it runs once in CI, not on every Node and PostgreSQL version.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { JobDefinition } from '../../src/job-contract.ts';
import { listJobRuns } from '../../src/jobs/job-runs.repository.ts';
import { startScheduler, type Scheduler } from '../../src/jobs/scheduler.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const log = createLogger('silent');
const config = loadConfig({});

describe('the schedule across two workers', () => {
  let db: TestDatabase;
  let secondPool: pg.Pool;
  const schedulers: Scheduler[] = [];
  const running = { now: 0, max: 0 };
  const job: JobDefinition = {
    name: 'test-every-minute',
    description: 'test',
    schedule: { everyMinutes: 1 },
    async run() {
      running.now += 1;
      running.max = Math.max(running.max, running.now);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      running.now -= 1;
      return { ran: 1 };
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    secondPool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await secondPool.end();
    await db.drop();
  });

  it('runs each tick of a job exactly once', async () => {
    for (const pool of [db.pool, secondPool]) {
      schedulers.push(await startScheduler({ pool, config, log }, [job], { cronMonitorIntervalSeconds: 1 }));
    }
    // Wait for two ticks to have run.
    const deadline = Date.now() + 150_000;
    let runs = await listJobRuns(db.pool, { job: job.name });
    while (runs.filter((r) => r.outcome === 'succeeded').length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      runs = await listJobRuns(db.pool, { job: job.name });
    }
    const done = runs.filter((r) => r.outcome === 'succeeded');
    expect(done.length).toBeGreaterThanOrEqual(2);
    // One run per minute: no two runs started in the same minute, none overlapped.
    const minutes = done.map((r) => Math.floor(r.startedAt.getTime() / 60_000));
    expect(new Set(minutes).size).toBe(minutes.length);
    expect(running.max).toBe(1);
    expect(runs.every((r) => r.trigger === 'schedule')).toBe(true);
  }, 180_000);
});
