/** Process helpers shared by the benchmarks: memory and CPU from /proc, output lines, stopping. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux everywhere we run). */
const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return line.slice(line.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  } catch {
    return undefined; // exited
  }
}

/** Samples the RSS of `pid` every `everyMs`; stop() ends sampling and returns the peak, in MB. */
export function samplePeakRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMb(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), everyMs);
  return {
    stop() {
      clearInterval(sampler);
      return (peak = Math.max(peak, rssMb(pid)));
    },
  };
}

/**
 * CPU seconds used so far by `pid` (all its threads). With `children`: also by its child processes,
 * live ones read directly and exited ones through the parent's cutime/cstime (PostgreSQL's
 * postmaster reaps its backends, so this covers every backend that ever ran).
 */
export function cpuSeconds(pid: number, children = false): number {
  const own = statFields(pid);
  if (!own) return 0;
  let ticks = Number(own[11]) + Number(own[12]);
  if (children) {
    ticks += Number(own[13]) + Number(own[14]);
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = statFields(Number(entry));
      if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks / TICKS_PER_SECOND;
}

export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${buffer}`)), timeoutMs);
    const onData = (data: Buffer) => {
      buffer += data.toString();
      const match = pattern.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}:\n${buffer}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A bench's `dcs start` (`server`), its embedded PostgreSQL's postmaster, and a client on its database. */
export interface BenchServer {
  env: NodeJS.ProcessEnv;
  server: ChildProcess;
  port: number;
  postmaster: number;
  db: pg.Client;
}

/**
 * `dcs start` on an embedded PostgreSQL under `dataDir` (scheduled jobs off, so nothing runs
 * behind the measurements) and a client on its database, for seeding by SQL. `keep`: start on
 * what a previous run left instead of a fresh folder (a first start may then migrate a large
 * database: `startTimeoutMs`); `nodeArgs` go to node.
 */
export async function startBenchServer(root: string, dataDir: string, extraEnv: NodeJS.ProcessEnv = {}, options: { keep?: boolean; nodeArgs?: string[]; startTimeoutMs?: number } = {}): Promise<BenchServer> {
  if (!options.keep) fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2', ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JOBS_DISABLED: 'true', ...extraEnv };
  delete env.DATABASE_URL;
  const server = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(root, 'bin', 'dcs.js'), 'start'], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = Number((await waitForLine(server, /listening on http:\/\/[^:]+:(\d+)/, options.startTimeoutMs ?? 120_000))[1]);
  const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const pidFile = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  const db = new pg.Client({ host: '127.0.0.1', port: Number(pidFile[3]), user: 'postgres', password, database: 'dcs' });
  await db.connect();
  db.on('error', () => undefined); // the server stopping at the end ends this connection too
  return { env, server, port, postmaster: Number(pidFile[0]), db };
}

export interface TimedRun {
  seconds: number;
  cpuSeconds: number;
  postgresCpuSeconds: number;
  peakRssMb: number;
  stdout: string;
}

/**
 * `dcs ARGS` (as `npm start` runs node) under /usr/bin/time with `env`: wall time, its CPU and peak
 * RSS, and the CPU of the PostgreSQL under `postmaster` meanwhile. `onStderr` sees its progress.
 * Throws when the command fails.
 */
export async function timedDcs(root: string, env: NodeJS.ProcessEnv, postmaster: number, args: string[], onStderr?: (text: string) => void): Promise<TimedRun> {
  const timeFile = path.join(os.tmpdir(), `dcs-bench-time-${process.pid}`);
  const nodeArgs = ['--max-semi-space-size=4', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const postgresBefore = cpuSeconds(postmaster, true);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, process.execPath, ...nodeArgs, path.join(root, 'bin', 'dcs.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
    onStderr?.(d.toString());
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`dcs ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`);
  const [user, system, maxKb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, cpuSeconds: user + system, postgresCpuSeconds: cpuSeconds(postmaster, true) - postgresBefore, peakRssMb: maxKb / 1024, stdout };
}
