/**
 * backup: `dcs backup run` and `dcs restore` on the export benchmark's study (BENCH_EXPORT_POINTS,
 * default 1,000,000 element-show points of 500 sources plus 120,000 points of other types, uploaded
 * as extensions send them; built by `npm run bench -- export` and kept in .bench/export-data, or
 * built here when missing):
 *  1. `dcs backup run` of every bundle (the first backup of a server) to a folder: wall time,
 *     bundles/s and points/s, CPU of dcs and PostgreSQL, peak RSS, the backup's size;
 *  2. `dcs restore --from` that folder into an empty database in the same cluster, processing
 *     and the statistics included: the same figures; then the restored points are compared with
 *     the original's, row for row (a digest of every row, in order).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecretKey } from '../src/crypto/secretbox.ts';
import { benchExport } from './export-bench.ts';
import { cpuSeconds, startBenchServer, stop } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = path.join(ROOT, '.bench', 'export-data');
const BACKUP_DIR = path.join(ROOT, '.bench', 'backup-files');

interface Timed {
  seconds: number;
  cpuSeconds: number;
  postgresCpuSeconds: number;
  peakRssMb: number;
  stdout: string;
}

/** `dcs ARGS` under /usr/bin/time with `env`: wall, its CPU and peak RSS, and PostgreSQL's CPU meanwhile. */
async function timedDcs(env: NodeJS.ProcessEnv, postmaster: number, args: string[]): Promise<Timed> {
  const timeFile = path.join(os.tmpdir(), `dcs-bench-time-${process.pid}`);
  const postgresBefore = cpuSeconds(postmaster, true);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, process.execPath, '--max-semi-space-size=4', path.join(ROOT, 'bin', 'dcs.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
    process.stdout.write(`\r  ${d.toString().trim().split('\n').pop()!.slice(0, 110).padEnd(110)}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  process.stdout.write('\n');
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`dcs ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`);
  const [user, system, maxKb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, cpuSeconds: user + system, postgresCpuSeconds: cpuSeconds(postmaster, true) - postgresBefore, peakRssMb: maxKb / 1024, stdout };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** A digest of every point as the issue compares them, in one order. */
const POINTS_DIGEST = `SELECT count(*)::int AS n, md5(string_agg(md5(source || ' ' || generator_id || ' ' || created::text || ' ' || content_digest::text || ' ' || recorded::text || ' ' || properties::text), '' ORDER BY created, content_digest)) AS digest FROM data_points`;

export async function benchBackup(): Promise<void> {
  if (!fs.existsSync(path.join(DATA_DIR, 'bench-export.json'))) {
    console.log('building the study with the export benchmark first');
    process.env.BENCH_EXPORT_RUNS ??= '1';
    await benchExport();
  }
  const key = generateSecretKey();
  fs.rmSync(BACKUP_DIR, { recursive: true, force: true });
  const server = await startBenchServer(ROOT, DATA_DIR, { BACKUP_KEY: key, BACKUP_DIR }, { keep: true, startTimeoutMs: 600_000 });
  try {
    // A first backup of every bundle, as a server that ran without backups makes when they are set up.
    await server.db.query('INSERT INTO backup_queue (bundle_id) SELECT id FROM bundles ON CONFLICT DO NOTHING');
    await server.db.query('DROP DATABASE IF EXISTS dcs_restored WITH (FORCE)');
    await server.db.query('CHECKPOINT');
    const { rows: [study] } = await server.db.query('SELECT (SELECT count(*) FROM bundles)::int AS bundles, (SELECT sum(points_added) FROM bundles)::int AS points');
    console.log(`study: ${int(study.bundles)} bundles, ${int(study.points)} points; load ${load()}`);

    const loadBefore = load();
    const backup = await timedDcs(server.env, server.postmaster, ['backup', 'run']);
    const files = fs.readdirSync(BACKUP_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const bytes = files.reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
    const backupLine = `| backup run (every bundle) | ${backup.seconds.toFixed(1)} s | ${int(study.bundles / backup.seconds)} | ${int(study.points / backup.seconds)} | ${backup.cpuSeconds.toFixed(1)} + ${backup.postgresCpuSeconds.toFixed(1)} s | ${backup.peakRssMb.toFixed(0)} MB | ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB | ${loadBefore} → ${load()} |`;
    console.log(backupLine);

    await server.db.query('CREATE DATABASE dcs_restored');
    const restoredUrl = new URL(`postgres://postgres:${encodeURIComponent(server.db.password!)}@127.0.0.1:${server.db.port}/dcs_restored`).toString();
    const restoreEnv = { ...server.env, DATABASE_URL: restoredUrl, DATA_DIR: path.join(DATA_DIR, 'restore-cli'), LOG_LEVEL: 'warn' };
    const restoreLoad = load();
    const restore = await timedDcs(restoreEnv, server.postmaster, ['restore', '--from', BACKUP_DIR]);
    const restoreLine = `| restore into an empty database, processing and statistics included | ${restore.seconds.toFixed(1)} s | ${int(study.bundles / restore.seconds)} | ${int(study.points / restore.seconds)} | ${restore.cpuSeconds.toFixed(1)} + ${restore.postgresCpuSeconds.toFixed(1)} s | ${restore.peakRssMb.toFixed(0)} MB | | ${restoreLoad} → ${load()} |`;
    console.log(restoreLine);
    console.log(restore.stdout.trim());

    const original = (await server.db.query(POINTS_DIGEST)).rows[0];
    const pg = await import('pg');
    const restoredDb = new pg.default.Client({ connectionString: restoredUrl });
    await restoredDb.connect();
    const restored = (await restoredDb.query(POINTS_DIGEST)).rows[0];
    await restoredDb.end();
    console.log(`points compared row for row (source, type, created, digest, recorded, properties): original ${int(original.n)} ${original.digest}, restored ${int(restored.n)} ${restored.digest}: ${original.digest === restored.digest ? 'EQUAL' : 'DIFFERENT'}`);
    console.log(`\n| case | wall | bundles/s | points/s | CPU: dcs + PostgreSQL | peak RSS (dcs) | size | load before → after |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n${backupLine}\n${restoreLine}\n`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    await server.db.query('DROP DATABASE dcs_restored WITH (FORCE)');
    await server.db.end();
  } finally {
    await stop(server.server);
    fs.rmSync(BACKUP_DIR, { recursive: true, force: true });
  }
}
