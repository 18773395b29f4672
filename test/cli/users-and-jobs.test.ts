/** `dcs users ...`, `dcs jobs` and `dcs run-job` as an operator runs them, in child processes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/dashboard/auth/passwords.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs, spawnDcs } from '../helpers/dcs.ts';

let db: TestDatabase;
const dcs = (args: string[], input?: string, env: Record<string, string | undefined> = {}) => runDcs(args, { databaseUrl: db.url, input, env });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

describe('first start', () => {
  it('says which command creates the first dashboard user, with the listening line', async () => {
    const fresh = await createTestDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-first-start-'));
    const server = spawnDcs(['start'], { databaseUrl: fresh.url, env: { DATA_DIR: dataDir } });
    try {
      await server.waitFor(/job schedule running/);
      const messages = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).msg as string);
      const listening = messages.findIndex((m) => m.startsWith('webmunk-dcs listening on'));
      expect(listening, server.output()).toBeGreaterThanOrEqual(0);
      // right after the listening line, before the schedule (whose start may take a while)
      expect(messages[listening + 1]).toBe('No dashboard user yet. Create the first one with: npx dcs users create NAME --admin (it asks for the password), then log in at /data/login');
      expect(messages.indexOf('job schedule running')).toBeGreaterThan(listening + 1);
    } finally {
      await server.stop();
      await fresh.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('dcs users', () => {
  it('creates a user with the password from standard input, hashed', async () => {
    const created = await dcs(['users', 'create', 'ana', '--admin'], 'first password\n');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created administrator ana');
    const { rows } = await db.pool.query(`SELECT password_hash, is_admin FROM staff_users WHERE username = 'ana'`);
    expect(rows[0].is_admin).toBe(true);
    expect(await verifyPassword(rows[0].password_hash, 'first password')).toBe(true);
  });

  it('refuses a taken name, a short password and a bad name, with a reason', async () => {
    const taken = await dcs(['users', 'create', 'ana'], 'another password\n');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('already exists');
    const short = await dcs(['users', 'create', 'bo'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 8 characters');
    const bad = await dcs(['users', 'create', 'a b'], 'long enough password\n');
    expect(bad.code).toBe(1);
  });

  it('lists, changes a password (ending sessions) and removes', async () => {
    await dcs(['users', 'create', 'cy'], 'cys password\n');
    const list = await dcs(['users', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ana\s+admin\s+last login never$/m);
    expect(list.stdout).toMatch(/^cy\s+staff\s+last login never$/m);
    const { rows } = await db.pool.query(`SELECT id FROM staff_users WHERE username = 'cy'`);
    await db.pool.query(`INSERT INTO staff_sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('\\x01', $1, 'x', now() + interval '1 hour')`, [rows[0].id]);
    const changed = await dcs(['users', 'set-password', 'cy'], 'cys new password\n');
    expect(changed.code, changed.stderr).toBe(0);
    const after = await db.pool.query(`SELECT password_hash, (SELECT count(*)::int FROM staff_sessions) AS sessions FROM staff_users WHERE username = 'cy'`);
    expect(await verifyPassword(after.rows[0].password_hash, 'cys new password')).toBe(true);
    expect(after.rows[0].sessions).toBe(0);
    expect((await dcs(['users', 'remove', 'cy'])).code).toBe(0);
    const again = await dcs(['users', 'remove', 'cy']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('No user "cy"');
    expect((await dcs(['users', 'set-password', 'nobody'], 'whatever long\n')).code).toBe(1);
  });

  it('prints its usage for a wrong call', async () => {
    const wrong = await dcs(['users', 'create']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('dcs users create NAME [--admin]');
  });
});

describe('dcs run-job and dcs jobs', () => {
  it('runs a job in the foreground and records it', async () => {
    const run = await dcs(['run-job', 'server-health']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^server-health succeeded in \d+\.\d\d s: \{.*\}$/m);
    const jobs = await dcs(['jobs', '--json']);
    expect(jobs.code).toBe(0);
    const listing = JSON.parse(jobs.stdout);
    expect(listing.jobs.map((j: { name: string }) => j.name)).toEqual(['source-statistics', 'status-checks', 'alert-digest', 'server-health', 'nightly-export', 'report-jobs', 'asin-harvest', 'keepa-enrich', 'backup', 'bundle-retention', 'donations', 'data-quality', 'partitions']);
    const health = listing.jobs.find((j: { name: string }) => j.name === 'server-health');
    expect(health).toMatchObject({ schedule: 'every 15 minutes', scheduled: true, lastRun: { outcome: 'succeeded', trigger: 'cli' } });
    expect(listing.jobs.find((j: { name: string }) => j.name === 'alert-digest')).toMatchObject({ scheduled: false, lastRun: null });
    // Without BACKUP_KEY and a destination, backups are not scheduled.
    expect(listing.jobs.find((j: { name: string }) => j.name === 'backup')).toMatchObject({ schedule: 'every 5 minutes', scheduled: false });
    const text = await dcs(['jobs']);
    expect(text.stdout).toMatch(/^server-health\s+every 15 minutes\s+last: succeeded /m);
  });

  it('exits non-zero when the job fails (the original exited 0)', async () => {
    const run = await dcs(['run-job', 'alert-digest'], '', { ALERT_DIGEST_RECIPIENTS: 'team@example.org' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^alert-digest failed after [\d.]+ s: .*SMTP_URL/m);
    const { rows } = await db.pool.query(`SELECT outcome, error FROM job_runs WHERE job = 'alert-digest'`);
    expect(rows).toEqual([{ outcome: 'failed', error: expect.stringContaining('SMTP_URL') }]);
  });

  it('names the jobs when asked for an unknown one', async () => {
    const run = await dcs(['run-job', 'nightly-backup']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown job "nightly-backup". Jobs: source-statistics, status-checks, alert-digest, server-health, nightly-export, report-jobs, asin-harvest, keepa-enrich');
  });
});
