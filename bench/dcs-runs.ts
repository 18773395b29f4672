/**
 * webmunk-dcs under the benchmark's load, each run on a fresh embedded PostgreSQL:
 *
 *   measureServer  `dcs start` (web + processing thread, as `npm start` runs it): uploads
 *                  accepted/s, all points processed/s (first upload -> last point stored),
 *                  peak RSS of the process, CPU per point of it and of PostgreSQL
 *   measureStages  the same work split in two: `dcs serve` taking the uploads alone (store raw),
 *                  then, after a CHECKPOINT (so the uploads' WAL is not counted), processing alone
 *                  in a process of its own (bench/processing-alone.ts: one loop, on that server's
 *                  database), each with its CPU per point
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { cpuSeconds, samplePeakRss, stop, waitForLine } from './processes.ts';
import { drive, type Upload } from './uploads.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Started {
  child: ChildProcess;
  port: number;
  postmaster: number;
  url: string;
  db: pg.Client;
}

export async function startDcs(root: string, dataDir: string, command: 'start' | 'serve'): Promise<Started> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  // MALLOC_ARENA_MAX as `npm start` and the `dcs` shebang set it (bin/dcs.js says why).
  const env = { MALLOC_ARENA_MAX: '2', ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  delete (env as Record<string, string | undefined>).DATABASE_URL;
  // As `npm start` runs it; BENCH_NODE_ARGS adds flags (e.g. --cpu-prof).
  const nodeArgs = ['--max-semi-space-size=4', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin', 'dcs.js'), command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = Number((await waitForLine(child, /listening on http:\/\/[^:]+:(\d+)/, 120_000))[1]);
  const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const pidFile = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  const [postmaster, pgPort] = [Number(pidFile[0]), Number(pidFile[3])];
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/dcs`;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  db.on('error', () => undefined); // the server stopping at the end ends this connection too
  return { child, port, postmaster, url, db };
}

/** CPU used by the server's Node process and by its PostgreSQL from now, in µs per point. */
function cpuMeter(server: Started): { perPoint(points: number): { node: number; postgres: number } } {
  const before = { node: cpuSeconds(server.child.pid!), postgres: cpuSeconds(server.postmaster, true) };
  return {
    perPoint: (points) => ({
      node: ((cpuSeconds(server.child.pid!) - before.node) / points) * 1e6,
      postgres: ((cpuSeconds(server.postmaster, true) - before.postgres) / points) * 1e6,
    }),
  };
}

async function storedCounts(db: pg.Client): Promise<{ points: number; errored: number }> {
  const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM data_points) AS points,
    (SELECT count(*)::int FROM bundles WHERE status = 'errored') AS errored`);
  return rows[0];
}

export interface ServerRun {
  acceptedPointsPerSecond: number;
  acceptedUploadsPerSecond: number;
  uploadSeconds: number;
  processedPointsPerSecond: number;
  processedSeconds: number;
  failures: number;
  storedPoints: number;
  erroredBundles: number;
  peakRssMb: number;
  cpuMicrosPerPoint: { node: number; postgres: number };
}

export async function measureServer(root: string, uploads: Upload[], totalPoints: number): Promise<ServerRun> {
  const server = await startDcs(root, path.join(root, '.bench', 'data'), 'start');
  const rss = samplePeakRss(server.child.pid!);
  try {
    // CPU per point: far steadier than throughput on a shared machine (startup excluded).
    const cpu = cpuMeter(server);
    const run = await drive(server.port, uploads);
    for (;;) {
      const { rows } = await server.db.query(`SELECT count(*)::int AS pending FROM bundles WHERE status = 'pending'`);
      if (rows[0].pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const processedSeconds = (Date.now() - run.firstAt) / 1000;
    const cpuMicrosPerPoint = cpu.perPoint(totalPoints);
    const counts = await storedCounts(server.db);
    await server.db.end();
    return {
      acceptedPointsPerSecond: totalPoints / run.seconds,
      acceptedUploadsPerSecond: uploads.length / run.seconds,
      uploadSeconds: run.seconds,
      processedPointsPerSecond: totalPoints / processedSeconds,
      processedSeconds,
      failures: run.failures,
      storedPoints: counts.points,
      erroredBundles: counts.errored,
      peakRssMb: rss.stop(),
      cpuMicrosPerPoint,
    };
  } finally {
    rss.stop();
    await stop(server.child);
  }
}

export interface StageRun {
  /** `dcs serve` taking the uploads, nothing processed: Node process and PostgreSQL. */
  storeRaw: { node: number; postgres: number; uploadsPerSecond: number; failures: number; peakRssMb: number };
  /** bench/processing-alone.ts afterwards: that process and PostgreSQL. */
  processing: { node: number; postgres: number; pointsPerSecond: number; storedPoints: number };
}

export async function processAlone(url: string, postmaster: number, totalPoints: number): Promise<StageRun['processing']> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'processing-alone.ts')], {
    env: { ...process.env, BENCH_DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  await waitForLine(child, /^started$/m, 60_000);
  const before = cpuSeconds(postmaster, true);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const postgres = cpuSeconds(postmaster, true) - before;
  const line = output.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`processing-alone failed (${code}):\n${output}`);
  const result = JSON.parse(line) as { cpuSeconds: number; seconds: number; points: number };
  return {
    node: (result.cpuSeconds / totalPoints) * 1e6,
    postgres: (postgres / totalPoints) * 1e6,
    pointsPerSecond: result.points / result.seconds,
    storedPoints: 0,
  };
}

export async function measureStages(root: string, uploads: Upload[], totalPoints: number): Promise<StageRun> {
  const server = await startDcs(root, path.join(root, '.bench', 'stages'), 'serve');
  const rss = samplePeakRss(server.child.pid!);
  try {
    const cpu = cpuMeter(server);
    const run = await drive(server.port, uploads);
    const storeRaw = { ...cpu.perPoint(totalPoints), uploadsPerSecond: uploads.length / run.seconds, failures: run.failures, peakRssMb: rss.stop() };
    await server.db.query('CHECKPOINT');
    const processing = await processAlone(server.url, server.postmaster, totalPoints);
    processing.storedPoints = (await storedCounts(server.db)).points;
    await server.db.end();
    return { storeRaw, processing };
  } finally {
    rss.stop();
    await stop(server.child);
  }
}
