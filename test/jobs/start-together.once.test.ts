/**
 * Worker processes started together, as docs/operations.md deploys them: three `dcs worker`s and
 * two `dcs start`s launched at once on one empty database all come up (the migrations, pg-boss's
 * schema and every job queue created once) and the schedule runs. Waits for a real cron tick
 * (about a minute), so it runs once in CI, not on every Node and PostgreSQL version.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { LOCKS, lockSession } from '../../src/db/advisory-lock.ts';
import { JOBS } from '../../src/jobs/job-list.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { spawnDcs, type DcsProcess } from '../helpers/dcs.ts';

describe('workers started together on an empty database', () => {
  let db: TestDatabase;
  const processes: DcsProcess[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-together-'));

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('all come up, and the schedule runs', async () => {
    const commands = ['worker', 'worker', 'worker', 'start', 'start'];
    // Lined up as if launched in the same instant: every process first waits for the migration
    // lock, held here until all of them wait for it.
    const barrier = new pg.Client({ connectionString: db.url });
    await barrier.connect();
    await lockSession(barrier, LOCKS.migrations);
    // A DATA_DIR each: a web process keeps its upload spool there.
    processes.push(...commands.map((command, i) => spawnDcs([command], { databaseUrl: db.url, env: { DATA_DIR: path.join(dataDir, String(i)), DB_POOL_SIZE: '5' } })));
    const waiting = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0].n;
    while ((await waiting()) < commands.length) {
      const exited = processes.find((p) => p.child.exitCode !== null);
      if (exited) throw new Error(`a process exited before the start:\n${exited.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await barrier.end();

    await Promise.all(processes.map((p) => p.waitFor(/job schedule running|could not start/)));
    for (const p of processes) {
      expect(p.output()).not.toContain('could not start');
      expect(p.output()).toContain('job schedule running');
    }

    // The web processes answer.
    for (const p of processes.filter((_, i) => commands[i] === 'start')) {
      const [, port] = await p.waitFor(/listening on http:\/\/[^:]+:(\d+)/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }
    // Each job's queue exists once.
    const { rows: queues } = await db.pool.query(`SELECT name FROM pgboss.queue WHERE name LIKE 'dcs-%' ORDER BY name`);
    expect(queues.map((q) => q.name)).toEqual(JOBS.map((job) => `dcs-${job.name}`).sort());

    // A scheduled run (report-jobs runs every minute) completes.
    const deadline = Date.now() + 150_000;
    let runs: { job: string; outcome: string; error: string | null }[] = [];
    while (Date.now() < deadline) {
      ({ rows: runs } = await db.pool.query(`SELECT job, outcome, error FROM job_runs WHERE trigger = 'schedule' AND outcome <> 'running'`));
      if (runs.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.filter((run) => run.outcome !== 'succeeded')).toEqual([]);
    // and every process is still running
    for (const p of processes) expect(p.child.exitCode).toBeNull();
  }, 300_000);
});
