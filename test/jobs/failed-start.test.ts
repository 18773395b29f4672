/**
 * A worker that cannot start exits at once, non-zero, so that its supervisor (systemd, Docker,
 * Kubernetes) starts it again. Here the job queue's schema is damaged (pg-boss's version table
 * without the rest), so the schedule fails after pg-boss has started its timers and pollers.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { spawnDcs } from '../helpers/dcs.ts';

const pgBossSchemaVersion: number = createRequire(import.meta.url)('pg-boss/version.json').schema;

describe('a worker whose start fails', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`CREATE SCHEMA pgboss;
      CREATE TABLE pgboss.version (version int PRIMARY KEY, maintained_on timestamptz, cron_on timestamptz, monitored_on timestamptz);
      INSERT INTO pgboss.version (version) VALUES (${pgBossSchemaVersion})`);
  });
  afterAll(async () => db.drop());

  it('exits with status 1 and says why', async () => {
    const worker = spawnDcs(['worker'], { databaseUrl: db.url });
    // Not a timing target: a start that failed must end the process rather than leave it running.
    const code = await Promise.race([worker.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
    await worker.stop();
    expect(code, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/could not start: .*create_queue/);
  }, 90_000);
});
