/**
 * `npm run bench -- scale` (issue 22 §5, T6): processing throughput against the number of
 * `dcs worker` processes on one PostgreSQL, each worker's CPU capped, so that on a small machine
 * the workers, not the machine, are the bottleneck until the database is. It shows whether
 * throughput rises with workers until PostgreSQL is full, and that it never collapses (claims
 * with SKIP LOCKED do not contend; no lock queues behind another).
 *
 * Each run: a fresh, migrated database, k workers started on its empty queue
 * (one processing loop each, no scheduled jobs), each in its own CPU cgroup; then the same
 * BENCH_SCALE_BUNDLES bundles of the ingest load (64 points each) are inserted in one statement,
 * and the clock runs until none is pending.
 *
 *   BENCH_SCALE_WORKERS  worker counts to run, default 1,2,3,4,6
 *   BENCH_SCALE_CPU      CPU cap per worker in cores, default 0.25 (0: uncapped)
 *   BENCH_SCALE_BUNDLES  bundles per run, default 600 (38,400 points)
 *
 * The cap uses a cgroup (v1 `cpu` controller or v2 `cpu.max`), which needs root; without one the
 * bench says so and runs uncapped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CHANNELS, notify } from '../src/db/channels.ts';
import { createPool } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/log.ts';
import { openLimitsDatabase } from './limits-db.ts';
import { cpuSeconds, stop, waitForLine } from './processes.ts';
import { buildUploads } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKER_COUNTS = (process.env.BENCH_SCALE_WORKERS ?? '1,2,3,4,6').split(',').map(Number);
const CPU_CAP = Number(process.env.BENCH_SCALE_CPU ?? 0.25);
const BUNDLES = Number(process.env.BENCH_SCALE_BUNDLES ?? 600);
const PERIOD_US = 100_000;

/** A CPU cap for one process: a cgroup of its own, removed by `release()`. */
interface CpuCap {
  add(pid: number): void;
  release(): void;
}

function cgroupCap(name: string, cores: number): CpuCap | undefined {
  const quota = Math.round(cores * PERIOD_US);
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = '/sys/fs/cgroup';
  try {
    if (fs.existsSync(path.join(v1, 'cpu.cfs_quota_us'))) {
      const dir = path.join(v1, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
      return { add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)), release: () => removeCgroup(dir, path.join(v1, 'cgroup.procs')) };
    }
    if (fs.existsSync(path.join(v2, 'cgroup.controllers')) && fs.readFileSync(path.join(v2, 'cgroup.controllers'), 'utf8').includes('cpu')) {
      fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '+cpu');
      const dir = path.join(v2, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
      return { add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)), release: () => removeCgroup(dir, path.join(v2, 'cgroup.procs')) };
    }
  } catch {
    return undefined; // not root, or no cpu controller
  }
  return undefined;
}

/** Moves what is left in the cgroup back to the root (rmdir refuses a cgroup with processes). */
function removeCgroup(dir: string, rootProcs: string): void {
  try {
    for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) fs.writeFileSync(rootProcs, pid);
    fs.rmdirSync(dir);
  } catch {
    // already gone
  }
}

interface ScaleRun {
  workers: number;
  seconds: number;
  pointsPerSecond: number;
  workerCpuSeconds: number;
  postgresCpuSeconds: number;
  points: number;
}

async function startWorker(url: string, cap: CpuCap | undefined): Promise<ChildProcess> {
  const env = { ...process.env, MALLOC_ARENA_MAX: '2', DATABASE_URL: url, JOBS_DISABLED: 'true', WORKER_CONCURRENCY: '1', LOG_LEVEL: 'info', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-scale-')) };
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dcs.js'), 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  cap?.add(child.pid!); // at once: its threads (the gunzip pool included) start inside the cgroup
  await waitForLine(child, /processing worker running/, 120_000);
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

async function runOnce(admin: pg.Pool, adminUrl: string, postmaster: number, bodies: Buffer[], points: number, workers: number): Promise<ScaleRun> {
  const name = `scale_${workers}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const caps = Array.from({ length: workers }, (_, i) => (CPU_CAP > 0 ? cgroupCap(`dcs-bench-worker-${i}`, CPU_CAP) : undefined));
  const children: ChildProcess[] = [];
  const db = createPool(url.toString(), 1, createLogger('warn'));
  try {
    await migrate(db);
    for (const cap of caps) children.push(await startWorker(url.toString(), cap));
    const workerCpu = () => children.reduce((sum, child) => sum + cpuSeconds(child.pid!), 0);
    const before = { worker: workerCpu(), postgres: cpuSeconds(postmaster, true), at: performance.now() };
    await db.query(
      `INSERT INTO bundles (receipt, endpoint, transport, compression, encrypted, body)
       SELECT r, 'bundle', 'form', 'gzip', false, b FROM unnest($1::uuid[], $2::bytea[]) AS u(r, b)`,
      [bodies.map(() => randomUUID()), bodies],
    );
    await notify(db, CHANNELS.bundles);
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - before.at) / 1000;
    const stored = (await db.query(`SELECT count(*)::int AS n FROM data_points`)).rows[0].n;
    if (stored !== points) throw new Error(`${workers} workers stored ${stored} points, expected ${points}`);
    return {
      workers,
      seconds,
      pointsPerSecond: points / seconds,
      workerCpuSeconds: workerCpu() - before.worker,
      postgresCpuSeconds: cpuSeconds(postmaster, true) - before.postgres,
      points,
    };
  } finally {
    await Promise.all(children.map(stop));
    await db.end();
    for (const cap of caps) cap?.release();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

export async function benchScale(): Promise<void> {
  const uploads = buildUploads().filter((u) => u.stored.compression === 'gzip').slice(0, BUNDLES);
  const points = uploads.reduce((sum, u) => sum + u.points, 0);
  const bodies = uploads.map((u) => u.stored.body);
  const db = await openLimitsDatabase(path.join(ROOT, '.bench', 'scale'));
  const adminUrl = new URL(db.url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Pool({ connectionString: adminUrl.toString(), max: 1 });
  try {
    const capped = CPU_CAP > 0 && cgroupCap('dcs-bench-probe', CPU_CAP);
    if (capped) capped.release();
    console.log(`${uploads.length} bundles, ${points} points per run; workers capped at ${capped ? `${CPU_CAP} core each (cgroup)` : 'nothing (no cgroup available: runs uncapped)'}; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n`);
    console.log('| workers | points/s | × 1 worker | wall s | workers CPU s | PostgreSQL CPU s | µs CPU/point (workers + PG) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    let first: number | undefined;
    for (const workers of WORKER_COUNTS) {
      const run = await runOnce(admin, adminUrl.toString(), db.postmaster, bodies, points, workers);
      first ??= run.pointsPerSecond;
      const perPoint = (s: number) => ((s / run.points) * 1e6).toFixed(1);
      console.log(`| ${workers} | ${Math.round(run.pointsPerSecond)} | ${(run.pointsPerSecond / first).toFixed(2)} | ${run.seconds.toFixed(1)} | ${run.workerCpuSeconds.toFixed(1)} | ${run.postgresCpuSeconds.toFixed(1)} | ${perPoint(run.workerCpuSeconds)} + ${perPoint(run.postgresCpuSeconds)} |`);
    }
  } finally {
    await admin.end();
    await db.close();
  }
}
