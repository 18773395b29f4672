/**
 * DATABASE_DIRECT_URL (the worker's LISTEN on a connection of its own, for a transaction-mode
 * PgBouncer in front of DATABASE_URL) and DATABASE_READ_URL (exports and the dashboard's
 * statistics pages read a replica; writes stay on the primary). The "replica" here is a second
 * database filled through a server of its own, so what a page or archive shows tells where it read.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { getReportJob, insertReportJob } from '../../src/exports/report-jobs.repository.ts';
import { reportJobsJob } from '../../src/exports/report-jobs.job.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { createLogger } from '../../src/log.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';
import { readZip, tempDir, uploadPoints } from '../exports/support.ts';
import { hoursAgo, pointAt, runOk } from '../monitoring/support.ts';

const log = createLogger('silent');

function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

async function waitFor<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('DATABASE_DIRECT_URL', () => {
  it('is refused without DATABASE_URL, or when it is not a PostgreSQL URL', () => {
    expect(() => loadConfig({ DATABASE_DIRECT_URL: 'postgres://db/dcs' })).toThrow(/DATABASE_DIRECT_URL needs DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://pgbouncer/dcs', DATABASE_READ_URL: 'mysql://replica/dcs' })).toThrow(/DATABASE_READ_URL must start with postgres:\/\//);
  });

  it('carries the processing worker\'s LISTEN; the pool behind DATABASE_URL holds none', async () => {
    const db = await createTestDatabase();
    const server = await startTestServer({ DATABASE_DIRECT_URL: withApplicationName(db.url, 'dcs-direct-test') }, { worker: true, db });
    try {
      const listening = await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dcs-direct-test'`);
        return rows.length > 0 && rows.every((r) => /^LISTEN/.test(r.query)) ? rows : undefined;
      }, 'the LISTEN connection');
      expect(listening).toEqual([{ query: 'LISTEN "dcs_bundles"' }]);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'dcs-direct-test' AND query ILIKE 'LISTEN%'`);
      expect(rows[0].n).toBe(0);
      // and processing, woken by the upload, still runs
      await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([pointAt('direct-1', hoursAgo(1))]) });
      await waitFor(async () => {
        const { rows: done } = await db.pool.query(`SELECT 1 FROM data_points WHERE source = 'direct-1'`);
        return done.length > 0 ? true : undefined;
      }, 'the upload to be processed');
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});

describe('DATABASE_READ_URL', () => {
  let replica: TestDatabase;
  let server: TestServer;
  const exportDir = tempDir();

  beforeAll(async () => {
    // The replica's own data, which the primary does not have.
    replica = await createTestDatabase();
    const filler = await startTestServer({}, { db: replica });
    await uploadPoints(filler, [pointAt('ru-replica', hoursAgo(2), { userAgent: 'ReplicaBrowser/1.0' }), pointAt('ru-replica', hoursAgo(3), { userAgent: 'ReplicaBrowser/1.0' })]);
    await runOk(replica.pool, filler.config, sourceStatisticsJob);
    await filler.stop();

    server = await startTestServer({ DATABASE_READ_URL: replica.url, EXPORT_DIR: exportDir });
    await uploadPoints(server, [pointAt('ru-primary', hoursAgo(2), { userAgent: 'PrimaryBrowser/1.0' })]);
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
  });
  afterAll(async () => {
    await server?.stop();
    await replica?.drop();
  });

  it('serves the user-agents page from the replica', async () => {
    const staff = await createStaff(server.db.pool);
    const { cookie } = await logIn(server.baseUrl, staff.username, staff.password);
    const page = await (await fetch(`${server.baseUrl}/data/user-agents`, { headers: { cookie } })).text();
    expect(page).toContain('ReplicaBrowser/1.0');
    expect(page).not.toContain('PrimaryBrowser/1.0');
  });

  it('writes an export from the replica, and records the job on the primary', async () => {
    const job = (await insertReportJob(server.db.pool, {
      requestedBy: 'ana', selection: { all: true }, sources: ['ru-primary', 'ru-replica'], types: ['webmunk-history-visit'],
      dateType: 'created', format: 'tsv', namePrefix: 'export', destinations: ['folder'],
    }))!;
    const result = await runJob({ pool: server.db.pool, readPool: server.running.db.readPool, config: server.config, log }, reportJobsJob, 'cli');
    expect(result.outcome).toBe('succeeded');
    const done = (await getReportJob(server.db.pool, job.id))!;
    expect(done).toMatchObject({ state: 'done', pointsWritten: 2 });
    const text = (await readZip(path.join(exportDir, done.fileName!))).map((e) => e.data.toString('utf8')).join('\n');
    expect(text).toContain('ru-replica');
    expect(text).not.toContain('ru-primary');
    // nothing of the job was written to the replica
    const { rows } = await replica.pool.query('SELECT count(*)::int AS n FROM report_jobs');
    expect(rows[0].n).toBe(0);
  });
});
