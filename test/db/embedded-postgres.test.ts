/**
 * The embedded PostgreSQL (DATABASE_URL unset) through real `dcs` processes: a fresh cluster,
 * a CLI command joining the running server, a crashed app (kill -9) whose server is adopted, two
 * processes starting at once on a fresh directory, and stale postmaster.pid files.
 * Slow (initdb): one data directory serves the first tests, another the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { breakStaleLock, isAlive } from '../../src/db/embedded-postgres.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { FORM, gzipForm, samples } from '../helpers/samples.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SLOW = 180_000;
const children = new Set<ChildProcess>();
const dataDirs: string[] = [];

interface Dcs {
  child: ChildProcess;
  /** stdout and stderr, interleaved as received. */
  output(): string;
  stdout(): string;
  exited: Promise<number | null>;
  /** Waits (bounded) until the output matches `pattern`; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function freshDataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dcs-embedded-test-'));
  dataDirs.push(dir);
  return dir;
}

/** A data directory whose cluster path is too long for a Unix socket address (the app uses TCP). */
function freshLongDataDir(): string {
  const dir = path.join(freshDataDir(), 'a-data-directory-with-a-path-too-long-for-a-unix-socket-address', 'data');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The server's Unix socket files in the cluster directory. */
function sockets(dataDir: string): string[] {
  return readdirSync(path.join(dataDir, 'postgres')).filter((name) => /^\.s\.PGSQL\.\d+$/.test(name));
}

/** How the app's own connections reach the server: 'socket' (no client address) or 'tcp'. */
async function appConnections(dataDir: string): Promise<string[]> {
  const password = readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const port = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'dcs' });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT CASE WHEN client_addr IS NULL THEN 'socket' ELSE 'tcp' END AS via
      FROM pg_stat_activity WHERE application_name = 'webmunk-dcs'`);
    return [...new Set(rows.map((row) => row.via as string))];
  } finally {
    await client.end();
  }
}

function dcs(dataDir: string, args: string[], options: { uid?: number; gid?: number } = {}): Dcs {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/dcs.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (data: Buffer) => {
    output += data.toString();
    stdout += data.toString();
  });
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    children.delete(child);
    resolve(code);
  }));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      await waitUntil(() => pattern.test(output) || child.exitCode !== null, timeoutMs);
      const match = output.match(pattern);
      if (!match) throw new Error(`dcs ${args.join(' ')} (exit ${child.exitCode}) never printed ${pattern}:\n${output}`);
      return match;
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


/** The pid in DATA_DIR/postgres/postmaster.pid, if the file exists. */
function pidFilePid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** Every live postmaster serving this data directory (`postgres -D <dir>/postgres ...`). */
function postmasters(dataDir: string): number[] {
  const cluster = path.join(dataDir, 'postgres');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const d = args.indexOf('-D');
    if (path.basename(args[0] ?? '') === 'postgres' && d >= 0 && args[d + 1] === cluster) pids.push(Number(entry));
  }
  return pids;
}

function processUid(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1]);
}

async function startServe(dataDir: string, options: { uid?: number; gid?: number } = {}): Promise<{ app: Dcs; baseUrl: string }> {
  const app = dcs(dataDir, ['serve'], options);
  const [, port] = await app.waitFor(/listening on http:\/\/[^:"]+:(\d+)/);
  return { app, baseUrl: `http://127.0.0.1:${port}` };
}

/** SIGTERM, then wait for a clean exit. */
async function stop(app: Dcs): Promise<void> {
  app.child.kill('SIGTERM');
  expect(await app.exited).toBe(0);
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await waitUntil(() => children.size === 0, 30_000).catch(() => undefined);
  for (const dir of dataDirs) {
    const pids = postmasters(dir);
    for (const pid of pids) process.kill(pid, 'SIGQUIT'); // immediate shutdown
    await waitUntil(() => pids.every((pid) => !isAlive(pid)), 30_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('embedded PostgreSQL shared by app processes', () => {
  const dataDir = freshDataDir();
  let first: { app: Dcs; baseUrl: string };
  let postmaster: number;

  it('starts one server on a fresh data directory', async () => {
    first = await startServe(dataDir);
    expect(first.app.output()).toContain('creating the embedded PostgreSQL cluster');
    expect((await fetch(`${first.baseUrl}/healthz`)).status).toBe(200);
    postmaster = pidFilePid(dataDir)!;
    expect(isAlive(postmaster)).toBe(true);
    expect(postmasters(dataDir)).toEqual([postmaster]);
    // PostgreSQL refuses to run as root: run as root, the app runs it as the user "postgres".
    if (process.getuid?.() === 0) expect(processUid(postmaster)).not.toBe(0);
    // The app talks to it through its Unix socket (the /healthz check above used a connection).
    expect(sockets(dataDir)).toHaveLength(1);
    expect(await appConnections(dataDir)).toEqual(['socket']);
  }, SLOW);

  it('lets a CLI command use the running server, and leaves it running', async () => {
    const status = dcs(dataDir, ['status', '--json']);
    expect(await status.exited).toBe(0);
    expect(status.output()).toContain('using the embedded PostgreSQL already running');
    expect(status.output()).not.toContain('stopping the embedded PostgreSQL');
    // Logging is on (LOG_LEVEL=info), yet stdout holds only the result: one JSON object.
    const lines = status.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ bundles: 0, bundlesPending: 0, bundlesErrored: 0, points: 0, sources: 0 });
    expect(pidFilePid(dataDir)).toBe(postmaster);
    expect(isAlive(postmaster)).toBe(true);
    expect(postmasters(dataDir)).toEqual([postmaster]);
    expect((await fetch(`${first.baseUrl}/healthz`)).status).toBe(200);
  }, SLOW);

  it('adopts the server a killed app left running, and stops it on SIGTERM', async () => {
    first.app.child.kill('SIGKILL');
    await first.app.exited;
    expect(isAlive(postmaster)).toBe(true);

    const second = await startServe(dataDir);
    expect(second.app.output()).toContain('adopting the embedded PostgreSQL left running');
    expect(second.app.output()).not.toContain('creating the embedded PostgreSQL cluster');
    expect(pidFilePid(dataDir)).toBe(postmaster);
    expect(postmasters(dataDir)).toEqual([postmaster]);
    const upload = await fetch(`${second.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(samples(0, 1)) });
    expect(upload.status).toBe(201);

    await stop(second.app);
    expect(second.app.output()).toContain('stopping the embedded PostgreSQL');
    await waitUntil(() => !isAlive(postmaster));
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(postmasters(dataDir)).toEqual([]);
  }, SLOW);
});

describe('embedded PostgreSQL: concurrent starts and stale state', () => {
  const dataDir = freshLongDataDir();

  it('two commands started at once on a fresh directory create one cluster and both succeed', async () => {
    const a = dcs(dataDir, ['migrate']);
    const b = dcs(dataDir, ['migrate']);
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    const both = a.output() + b.output();
    expect([codeA, codeB], both).toEqual([0, 0]);
    expect(count(both, 'creating the embedded PostgreSQL cluster')).toBe(1);
    expect(count(both, 'database is up to date')).toBe(2);
    // Every server started was stopped by the last process to leave it.
    expect(count(both, 'starting the embedded PostgreSQL')).toBeGreaterThanOrEqual(1);
    expect(count(both, 'stopping the embedded PostgreSQL')).toBe(count(both, 'starting the embedded PostgreSQL'));
    expect(postmasters(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(readdirSync(path.join(dataDir, 'postgres.users'))).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postgres.lock'))).toBe(false);
  }, SLOW);

  /** Writes a postmaster.pid as a crashed server would leave it, naming `pid`. */
  function writeStalePidFile(pid: number) {
    const file = path.join(dataDir, 'postgres', 'postmaster.pid');
    writeFileSync(file, [pid, path.join(dataDir, 'postgres'), Math.floor(Date.now() / 1000), 1, '', '127.0.0.1', '  2146399        33', 'ready   ', ''].join('\n'));
  }

  async function deadPid(): Promise<number> {
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isAlive(child.pid!)).toBe(false);
    return child.pid!;
  }

  it('starts despite a postmaster.pid naming a dead process', async () => {
    writeStalePidFile(await deadPid());
    const { app, baseUrl } = await startServe(dataDir);
    expect(app.output()).toContain('starting the embedded PostgreSQL');
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    const postmaster = pidFilePid(dataDir)!;
    expect(postmasters(dataDir)).toEqual([postmaster]);
    // This data directory's path is too long for a Unix socket: TCP only.
    expect(sockets(dataDir)).toEqual([]);
    expect(await appConnections(dataDir)).toEqual(['tcp']);
    await stop(app);
    await waitUntil(() => !isAlive(postmaster));
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, SLOW);

  it('starts despite a postmaster.pid whose pid now belongs to another PostgreSQL', async () => {
    // A recycled pid (after a reboot or a container restart) that is now another cluster's server,
    // e.g. a system PostgreSQL: a live process that looks like `postgres -D <another directory>`.
    const impostor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '-D', '/var/lib/postgresql/16/main'], { argv0: 'postgres', stdio: 'ignore' });
    children.add(impostor);
    impostor.once('exit', () => children.delete(impostor));
    await waitUntil(() => isAlive(impostor.pid!) && readFileSync(`/proc/${impostor.pid}/cmdline`, 'utf8').startsWith('postgres\0'), 10_000);
    writeStalePidFile(impostor.pid!);

    const status = dcs(dataDir, ['status', '--json']);
    expect(await status.exited, status.output()).toBe(0);
    expect(status.output()).toContain('starting the embedded PostgreSQL');
    expect(status.output()).toMatch(/"bundlesPending":0/);
    expect(isAlive(impostor.pid!)).toBe(true); // left alone
    expect(postmasters(dataDir)).toEqual([]); // stopped again by the last (only) user
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    impostor.kill('SIGKILL');
  }, SLOW);
});

describe.skipIf(process.getuid?.() !== 0)('embedded PostgreSQL run by a normal user', () => {
  it('creates, starts and stops its own server as that user', async () => {
    const uid = 65534; // nobody
    const dataDir = freshDataDir();
    chownSync(dataDir, uid, uid);
    const { app, baseUrl } = await startServe(dataDir, { uid, gid: uid });
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    const postmaster = pidFilePid(dataDir)!;
    expect(postmasters(dataDir)).toEqual([postmaster]);
    expect(processUid(postmaster)).toBe(uid);
    await stop(app);
    await waitUntil(() => !isAlive(postmaster));
    expect(postmasters(dataDir)).toEqual([]);
  }, SLOW);
});

describe('the data directory lock', () => {
  it('breaks a lock left by a dead process', async () => {
    const lock = path.join(freshDataDir(), 'postgres.lock');
    writeFileSync(lock, '999999999');
    await breakStaleLock(lock, 999999999);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });

  it('leaves the new lock of a process that broke the stale one first', async () => {
    // Another process saw the same stale lock, removed it and took the lock itself before us.
    const lock = path.join(freshDataDir(), 'postgres.lock');
    writeFileSync(lock, String(process.ppid));
    await breakStaleLock(lock, 999999999);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid));
    expect(readdirSync(path.dirname(lock))).toEqual(['postgres.lock']);
  });

  it('does nothing when the stale lock is already gone', async () => {
    const lock = path.join(freshDataDir(), 'postgres.lock');
    await breakStaleLock(lock, 999999999);
    expect(existsSync(lock)).toBe(false);
  });
});
