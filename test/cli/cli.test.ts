/** The `dcs` command as users run it: `node bin/dcs.js ...` in a child process, on a test database. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { FORM, gzipForm, samples, type Point } from '../helpers/samples.ts';
import { startTestServer } from '../helpers/server.ts';
import { runDcs, type DcsResult } from '../helpers/dcs.ts';

/** Runs `dcs <args>` on this file's database. */
function dcs(args: string[], env: Record<string, string | undefined> = {}): Promise<DcsResult> {
  return runDcs(args, { databaseUrl: db.url, env });
}

/** `dcs status --json`, which must print exactly one JSON object on stdout. */
async function status(): Promise<Record<string, unknown>> {
  const result = await dcs(['status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

/** The given samples, all from participant `source`. */
function from(source: string, ...indexes: number[]): Point[] {
  return samples(...indexes).map((point) => ({ ...point, 'passive-data-metadata': { ...point['passive-data-metadata'], source } }));
}

let db: TestDatabase;
const tempDirs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('dcs keys generate', () => {
  it('prints a fresh NaCl key pair, usable as configuration', async () => {
    const first = await dcs(['keys', 'generate']);
    const second = await dcs(['keys', 'generate']);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const secret = first.stdout.match(/^PDK_SERVER_KEY=(\S+)$/m)?.[1];
    const publicKey = first.stdout.match(/^# server public key, for clients: (\S+)$/m)?.[1];
    expect(secret).toBeDefined();
    expect(Buffer.from(secret!, 'base64')).toHaveLength(32);
    expect(Buffer.from(Buffer.from(secret!, 'base64').toString('base64'), 'base64')).toEqual(Buffer.from(secret!, 'base64'));
    expect(Buffer.from(nacl.box.keyPair.fromSecretKey(Buffer.from(secret!, 'base64')).publicKey).toString('base64')).toBe(publicKey);
    expect(second.stdout.match(/^PDK_SERVER_KEY=(\S+)$/m)?.[1]).not.toBe(secret);
    // What it prints is what the configuration accepts.
    const config = loadConfig({ PDK_SERVER_KEY: secret, PDK_CLIENT_KEY: publicKey });
    expect(Buffer.from(config.serverSecretKey!).toString('base64')).toBe(secret);
  });

  it('rejects other keys subcommands', async () => {
    const result = await dcs(['keys', 'rotate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Usage: dcs keys generate');
  });
});

describe('dcs on a database', () => {
  const SOURCES = ['cli-a', 'cli-b', 'cli-c'];

  it('migrate exits 0 on an up-to-date database', async () => {
    const result = await dcs(['migrate']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('database is up to date');
  });

  it('status, process-bundles and reprocess report and process what the server received', async () => {
    const server = await startTestServer({}, { db });
    try {
      const bundles = [from('cli-a', 0, 1, 2), from('cli-b', 3, 4), from('cli-c', 5), from('cli-a', 6, 7)];
      for (const points of bundles) {
        const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(points) });
        expect(response.status).toBe(201);
      }
    } finally {
      await server.stop();
    }

    const before = await status();
    expect(before).toMatchObject({ bundles: 4, bundlesPending: 4, bundlesErrored: 0, points: 0, sources: 0 });

    const processed = await dcs(['process-bundles', '--until-empty']);
    expect(processed.code, processed.stderr).toBe(0);
    expect(processed.stdout).toMatch(/^processed 4 bundles, 8 points added \(8 seen, 0 rejected, 0 failed\)/m);
    expect(processed.stderr).toMatch(/processed \d+ bundles/); // progress

    const { rows: [counts] } = await db.pool.query('SELECT count(*) AS points, count(DISTINCT source) AS sources FROM data_points');
    expect(counts).toEqual({ points: 8, sources: 3 });
    const after = await status();
    expect(after).toMatchObject({ bundles: 4, bundlesPending: 0, bundlesErrored: 0, points: counts.points, sources: counts.sources });
    const { rows: sources } = await db.pool.query('SELECT DISTINCT source FROM data_points ORDER BY source');
    expect(sources.map((r) => r.source)).toEqual(SOURCES);

    const reprocessed = await dcs(['reprocess', '--source', 'cli-b']);
    expect(reprocessed.code, reprocessed.stderr).toBe(0);
    expect(reprocessed.stderr).toContain('queued 1 bundles for reprocessing');
    expect(reprocessed.stdout).toMatch(/^processed 1 bundles, 2 points added/m);
    expect(await status()).toEqual({ ...after, latestPointRecordedAt: expect.any(String) });
    const { rows: [again] } = await db.pool.query('SELECT count(*) AS points, count(DISTINCT source) AS sources FROM data_points');
    expect(again).toEqual(counts);
    const { rows: perSource } = await db.pool.query(`
      SELECT s.source, s.point_count, (SELECT count(*) FROM data_points p WHERE p.source = s.source) AS actual
      FROM data_sources s ORDER BY s.source`);
    expect(perSource).toEqual([
      { source: 'cli-a', point_count: 5, actual: 5 },
      { source: 'cli-b', point_count: 2, actual: 2 },
      { source: 'cli-c', point_count: 1, actual: 1 },
    ]);

    // A time window: everything was received within the last hour, nothing before 2000.
    const none = await dcs(['reprocess', '--until', '2000-01-01T00:00:00Z']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain('queued 0 bundles for reprocessing');
    const all = await dcs(['reprocess', '--since', new Date(Date.now() - 3_600_000).toISOString()]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toContain('queued 4 bundles for reprocessing');
    expect(await status()).toMatchObject({ bundlesPending: 0, points: 8, sources: 3 });

    const idle = await dcs(['process-bundles']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/^processed 0 bundles/m);
  });

  it('rejects a time that is not ISO', async () => {
    const result = await dcs(['reprocess', '--since', 'yesterday']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--since must be an ISO time');
  });
});

describe('dcs usage and configuration errors', () => {
  it('answers an unknown command with exit 1 and the usage, without touching a database', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dcs-cli-test-'));
    tempDirs.push(dataDir);
    const result = await dcs(['frobnicate'], { DATABASE_URL: undefined, DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: dcs <command>');
    expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false); // no embedded cluster created for it
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('answers an unknown option with exit 1 and the usage, not a stack trace', async () => {
    const result = await dcs(['status', '--frobnicate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--frobnicate');
    expect(result.stderr).toContain('Usage: dcs <command>');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('prints the usage for help (exit 0) and for no command (exit 1)', async () => {
    const help = await dcs(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('process-bundles');
    const none = await dcs([]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('Usage: dcs <command>');
  });

  it('reports every configuration problem together, with exit code 2', async () => {
    const result = await dcs(['status', '--json'], { PORT: 'abc', DB_POOL_SIZE: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toMatch(/PORT must be an integer.*"abc"/);
    expect(result.stderr).toMatch(/DB_POOL_SIZE must be an integer.*"1"/);
    expect(result.stdout).toBe('');
  });
});
