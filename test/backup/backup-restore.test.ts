/**
 * A study survives the loss of its machine: `dcs backup run` to a folder, then `dcs restore` into a
 * fresh database gives the same points row for row (with their recorded times), the same team data
 * and statistics; a bundle that arrives late (the spool after an outage) is in the next backup;
 * verify and restore find a damaged or missing file and a wrong key, and say so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';
import { generateSecretKey } from '../../src/crypto/secretbox.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { createLogger } from '../../src/log.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { addTeamData, BACKUP_KEY, pointRows, studyPoints, teamRows, tempDir } from './support.ts';

const backupDir = tempDir();
const env = { BACKUP_KEY, BACKUP_DIR: backupDir, BACKUP_FILE_MB: '1' };
const server = useTestServer(env);
const restored: TestDatabase[] = [];
let betweenRuns: Date;
afterAll(async () => {
  for (const db of restored) await db.drop();
  fs.rmSync(backupDir, { recursive: true, force: true });
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  restored.push(db);
  return db;
}

const runFolders = () => fs.readdirSync(path.join(backupDir, 'dcs-backup')).sort();

describe('backup to a folder and restore', () => {
  it('backs up, and restores into a fresh database the same points, team data and statistics', async () => {
    // Large enough for several 1 MiB files.
    for (let i = 0; i < 6; i += 1) await postGzip(server, studyPoints(`p-${i % 3}`, 400, 1_765_000_000 + i * 1000));
    await server.process();
    await addTeamData(server.db.pool);
    await runJob({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, statusChecksJob, 'cli');
    expect((await server.db.pool.query(`SELECT name FROM alerts WHERE source = 'p-silent' AND active`)).rows).toEqual([{ name: 'Data never uploaded' }]);

    const first = await runDcs(['backup', 'run'], { databaseUrl: server.db.url, env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/backup written: .*"bundles":6/);
    const [run] = runFolders();
    const files = fs.readdirSync(path.join(backupDir, 'dcs-backup', run));
    expect(files.filter((f) => f.startsWith('bundles-')).length).toBeGreaterThan(1);
    // Nothing readable leaves the machine: no file is plain gzip, and the team's words (a source's
    // name, long enough not to turn up in random ciphertext by chance) are in none.
    for (const file of files.filter((f) => f !== 'manifest.json')) {
      const bytes = fs.readFileSync(path.join(backupDir, 'dcs-backup', run, file));
      expect(bytes.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
      expect(bytes.includes('Participant one')).toBe(false);
    }
    expect((await server.db.pool.query('SELECT count(*)::int AS n FROM backup_queue')).rows[0].n).toBe(0);

    betweenRuns = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await postGzip(server, studyPoints('p-0', 5, 1_766_000_000));
    // A bundle the spool drains after the backup, received before it: in the next run.
    await server.db.pool.query(
      `INSERT INTO bundles (received_at, endpoint, transport, compression, body) VALUES (now() - interval '1 hour', 'bundle', 'put', 'none', $1)`,
      [Buffer.from(JSON.stringify(studyPoints('p-late', 3)))],
    );
    await server.process();
    const second = await runDcs(['backup', 'run'], { databaseUrl: server.db.url, env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/"bundles":2\b/);

    const verify = await runDcs(['backup', 'verify'], { databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/2 runs, \d+ files checked, 8 bundles and \d+ table rows readable/);
    const list = await runDcs(['backup', 'list'], { databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env });
    expect(list.stdout).toContain(`${backupDir}: 2 backup runs`);

    const target = await freshDatabase();
    const restore = await runDcs(['restore', '--from', backupDir], { databaseUrl: target.url, env: { BACKUP_KEY } });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/8 bundles loaded/);
    expect(restore.stderr).toMatch(/processing: 8 bundles/);
    expect(await pointRows(target.pool)).toEqual(await pointRows(server.db.pool));
    expect((await pointRows(target.pool)).length).toBe(2408);
    // Names, groups, accounts, tokens, configurations, products; statistics and alerts once the jobs ran.
    await runJob({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, statusChecksJob, 'cli');
    expect(await teamRows(target.pool)).toEqual(await teamRows(server.db.pool));
    expect(((await teamRows(target.pool)) as { donations: unknown[] }).donations).toHaveLength(2);
    expect(((await teamRows(target.pool)) as { erasures: unknown[] }).erasures).toHaveLength(1);
    // the file awaiting review is not restored (its bytes and review are never backed up), nor any upload link
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM donation_files WHERE state = 'awaiting-confirmation'`)).rows[0].n).toBe(0);
    expect((await target.pool.query('SELECT count(*)::int AS n FROM donation_requests WHERE upload_token_sha256 IS NOT NULL')).rows[0].n).toBe(0);

    // Again: refused without --merge; with it, nothing doubles.
    const refused = await runDcs(['restore', '--from', backupDir], { databaseUrl: target.url, env: { BACKUP_KEY } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds bundles or points');
    const merged = await runDcs(['restore', '--from', backupDir, '--merge'], { databaseUrl: target.url, env: { BACKUP_KEY } });
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/0 bundles loaded \(8 already here\)/);
    expect((await target.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n).toBe(8);
    expect(await pointRows(target.pool)).toEqual(await pointRows(server.db.pool));
    expect(await teamRows(target.pool)).toEqual(await teamRows(server.db.pool));
  });

  it('restores up to a time: the bundles received by then, late ones included, and the team data of the last run by then', async () => {
    const target = await freshDatabase();
    const restore = await runDcs(['restore', '--from', backupDir, '--until', betweenRuns.toISOString()], { databaseUrl: target.url, env: { BACKUP_KEY } });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/7 bundles loaded \(0 already here, 1 received after --until left out\)/);
    const { rows } = await target.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE source = 'p-late')::int AS late FROM data_points`);
    expect(rows[0]).toEqual({ n: 2403, late: 3 });

    const none = await runDcs(['restore', '--from', backupDir, '--until', '2020-01-01T00:00:00Z'], { databaseUrl: (await freshDatabase()).url, env: { BACKUP_KEY } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No backup run started by 2020-01-01T00:00:00.000Z.');
  });

  it('finds a wrong key, a damaged file and a missing file, in verify and in restore', async () => {
    const offline = 'postgres://nobody@127.0.0.1:1/none';
    const wrongKey = await runDcs(['backup', 'verify'], { databaseUrl: offline, env: { ...env, BACKUP_KEY: generateSecretKey() } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toContain('was made with another key');

    const [run] = runFolders();
    const folder = path.join(backupDir, 'dcs-backup', run);
    const damaged = path.join(folder, fs.readdirSync(folder).find((f) => f.startsWith('bundles-'))!);
    const original = fs.readFileSync(damaged);
    const copy = Buffer.from(original);
    copy[copy.length - 10] ^= 0xff;
    fs.writeFileSync(damaged, copy);
    const verify = await runDcs(['backup', 'verify'], { databaseUrl: offline, env });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`PROBLEM: ${backupDir}: dcs-backup/${run}/${path.basename(damaged)} is damaged`);
    const target = await freshDatabase();
    const restore = await runDcs(['restore', '--from', backupDir], { databaseUrl: target.url, env: { BACKUP_KEY } });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain(`${path.basename(damaged)} is damaged`);
    expect((await target.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n).toBe(0);

    fs.rmSync(damaged);
    const missing = await runDcs(['backup', 'verify'], { databaseUrl: offline, env });
    expect(missing.stdout).toContain(`${path.basename(damaged)} is missing`);
    fs.writeFileSync(damaged, original);
    expect((await runDcs(['backup', 'verify'], { databaseUrl: offline, env })).code).toBe(0);
  });
});
