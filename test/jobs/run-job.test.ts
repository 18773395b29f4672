import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { cronOf, describeSchedule, type JobDefinition } from '../../src/job-contract.ts';
import { listJobRuns, listJobTotals } from '../../src/jobs/job-runs.repository.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const log = createLogger('silent');
const config = loadConfig({ TIME_ZONE: 'Europe/Berlin', ALERT_DIGEST_TIME: '07:30' });

function slowJob(name: string, ms: number, counts = { done: 1 }): JobDefinition {
  return {
    name,
    description: 'test',
    schedule: { everyMinutes: 1 },
    async run() {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return counts;
    },
  };
}

describe('runJob', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('records a successful run with its counts, and the totals', async () => {
    const result = await runJob({ pool: db.pool, config, log }, slowJob('t-ok', 10, { done: 7 }), 'cli');
    expect(result.outcome).toBe('succeeded');
    const [run] = await listJobRuns(db.pool, { job: 't-ok' });
    expect(run).toMatchObject({ job: 't-ok', trigger: 'cli', outcome: 'succeeded', counts: { done: 7 }, error: null, pid: process.pid });
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt.getTime());
    const totals = (await listJobTotals(db.pool)).find((t) => t.job === 't-ok');
    expect(totals).toMatchObject({ runs: 1, failures: 0 });
  });

  it('records a failure with its message', async () => {
    const failing: JobDefinition = { ...slowJob('t-fail', 0), run: async () => { throw new Error('SMTP refused'); } };
    const result = await runJob({ pool: db.pool, config, log }, failing, 'schedule');
    expect(result.outcome).toBe('failed');
    const [run] = await listJobRuns(db.pool, { job: 't-fail' });
    expect(run).toMatchObject({ outcome: 'failed', error: 'SMTP refused', trigger: 'schedule' });
    expect((await listJobTotals(db.pool)).find((t) => t.job === 't-fail')).toMatchObject({ runs: 1, failures: 1 });
  });

  it('never runs one job twice at the same time, even from two connection pools', async () => {
    // A second pool on the same database stands for a second worker process.
    const pg = await import('pg');
    const secondPool = new pg.default.Pool({ connectionString: db.url, max: 2 });
    try {
      const job = slowJob('t-slow', 800);
      const [a, b] = await Promise.all([
        runJob({ pool: db.pool, config, log }, job, 'schedule'),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() => runJob({ pool: secondPool, config, log }, job, 'cli')),
      ]);
      expect([a.outcome, b.outcome].sort()).toEqual(['busy', 'succeeded']);
      expect(await listJobRuns(db.pool, { job: 't-slow' })).toHaveLength(1);
      // Once the first has finished, the lock is free again.
      expect((await runJob({ pool: secondPool, config, log }, job, 'cli')).outcome).toBe('succeeded');
    } finally {
      await secondPool.end();
    }
  });

  it('marks a run left "running" by a dead process as interrupted when the job next starts', async () => {
    await db.pool.query(`INSERT INTO job_runs (job, trigger, started_at, pid) VALUES ('t-crash', 'schedule', now() - interval '1 hour', 999999)`);
    await runJob({ pool: db.pool, config, log }, slowJob('t-crash', 0), 'cli');
    const runs = await listJobRuns(db.pool, { job: 't-crash' });
    expect(runs.map((r) => r.outcome)).toEqual(['succeeded', 'interrupted']);
  });

  it('describes schedules as cron expressions in TIME_ZONE', () => {
    expect(cronOf(slowJob('x', 0), config)).toBe('* * * * *');
    const five: JobDefinition = { ...slowJob('y', 0), schedule: { everyMinutes: 5 } };
    expect(cronOf(five, config)).toBe('*/5 * * * *');
    const daily: JobDefinition = { ...slowJob('z', 0), schedule: { dailyAt: (c) => c.alertDigestTime } };
    expect(cronOf(daily, config)).toBe('30 7 * * *');
    expect(describeSchedule(daily, config)).toBe('daily at 07:30 (Europe/Berlin)');
  });
});
