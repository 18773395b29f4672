/**
 * The backup alert: what System health, the home page and /metrics say in each state (off, half
 * set up, waiting for the first run, fine, failing, overdue), and when the job runs (interval,
 * back-off after failures).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { backupDue } from '../../src/backup/backup.job.ts';
import { readBackupHealth } from '../../src/backup/backup-runs.repository.ts';
import { describeBackups } from '../../src/backup/backup-status.ts';
import { loadConfig } from '../../src/config.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';
import { BACKUP_KEY, tempDir } from './support.ts';

const backupDir = tempDir();
const server = useTestServer({ BACKUP_KEY, BACKUP_DIR: backupDir, BACKUP_INTERVAL_MINUTES: '60' });
let runs = 0;
const configWith = (env: Record<string, string>) => loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', ...env });

async function addRun(state: 'succeeded' | 'failed', minutesAgo: number, error: string | null = null): Promise<void> {
  await server.db.pool.query(
    `INSERT INTO backup_runs (name, destinations, state, started_at, finished_at, error, bundles, files, bytes, table_rows)
     VALUES ($1, $2, $3, now() - make_interval(mins => $4), now() - make_interval(mins => $4), $5, 12, 2, 4096, 30)`,
    [`run-${state}-${minutesAgo}-${(runs += 1)}`, [backupDir], state, minutesAgo, error],
  );
}

beforeEach(async () => {
  await server.db.pool.query('DELETE FROM backup_runs');
});

describe('the backup alert', () => {
  it('says backups are off without an alert, and alerts when they are set up halfway', async () => {
    const health = await readBackupHealth(server.db.pool);
    expect(describeBackups(health, configWith({}))).toMatchObject({ state: 'off', alert: false });
    expect(describeBackups(health, configWith({ BACKUP_DIR: '/mnt/b' }))).toMatchObject({ state: 'half-configured', alert: true, message: expect.stringContaining('BACKUP_KEY is not set') });
    expect(describeBackups(health, configWith({ BACKUP_KEY }))).toMatchObject({ state: 'half-configured', alert: true });
    expect(describeBackups(health, server.config)).toMatchObject({ state: 'waiting', alert: false });
  });

  it('is fine after a recent backup, alerts on a failure and when the newest backup is older than twice the interval', async () => {
    await addRun('succeeded', 30);
    expect(describeBackups(await readBackupHealth(server.db.pool), server.config)).toMatchObject({ state: 'ok', alert: false, message: expect.stringContaining('12 new bundles') });
    await addRun('failed', 10, 'ENOSPC: no space left on device');
    expect(describeBackups(await readBackupHealth(server.db.pool), server.config)).toMatchObject({ state: 'failing', alert: true, message: expect.stringContaining('ENOSPC') });
    await server.db.pool.query('DELETE FROM backup_runs');
    await addRun('succeeded', 121);
    expect(describeBackups(await readBackupHealth(server.db.pool), server.config)).toMatchObject({ state: 'overdue', alert: true, message: expect.stringContaining('2 hours old (limit 2 hours)') });
  });

  it('shows on System health, on the home page while it is an alert, and in /metrics', async () => {
    await addRun('succeeded', 200);
    await addRun('failed', 3, 'AccessDenied');
    const user = await createStaff(server.db.pool, 'bea', 'bea password');
    const { cookie } = await logIn(server.baseUrl, user.username, user.password);
    const health = await (await fetch(`${server.baseUrl}/data/system-health`, { headers: { cookie } })).text();
    expect(health).toMatch(/<section class="panel" id="backups"><h2>Backups<\/h2><p class="notice error" role="alert">The last backup run failed: AccessDenied\. The last successful one finished 3 hours ago\./);
    expect(health).toMatch(/<code>run-failed-3-\d+<\/code>/);
    const home = await (await fetch(`${server.baseUrl}/data/`, { headers: { cookie } })).text();
    expect(home).toContain('<strong>Backups:</strong> The last backup run failed: AccessDenied.');
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^dcs_backup_alert 1$/m);
    expect(metrics).toMatch(/^dcs_backup_failures_since_success 1$/m);

    await server.db.pool.query('DELETE FROM backup_runs');
    await addRun('succeeded', 5);
    expect(await (await fetch(`${server.baseUrl}/data/`, { headers: { cookie } })).text()).not.toContain('<strong>Backups:</strong>');
    expect(await (await fetch(`${server.baseUrl}/metrics`)).text()).toMatch(/^dcs_backup_alert 0$/m);
  });
});

describe('when the backup job runs', () => {
  it('runs when the last backup is an interval old, and waits 5, 10, 20 minutes after failures', async () => {
    const due = async () => backupDue(await readBackupHealth(server.db.pool), server.config);
    expect(await due()).toBe(true);
    await addRun('succeeded', 59);
    expect(await due()).toBe(false);
    await server.db.pool.query('DELETE FROM backup_runs');
    await addRun('succeeded', 61);
    expect(await due()).toBe(true);
    await addRun('failed', 4);
    expect(await due()).toBe(false);
    await server.db.pool.query(`UPDATE backup_runs SET finished_at = now() - interval '6 minutes' WHERE state = 'failed'`);
    expect(await due()).toBe(true);
    await addRun('failed', 1);
    await addRun('failed', 1);
    await server.db.pool.query(`UPDATE backup_runs SET finished_at = now() - interval '19 minutes' WHERE state = 'failed'`);
    expect(await due()).toBe(false); // third failure: 20 minutes
    await server.db.pool.query(`UPDATE backup_runs SET finished_at = now() - interval '21 minutes' WHERE state = 'failed'`);
    expect(await due()).toBe(true);
  });
});
