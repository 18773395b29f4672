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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecretKey } from '../src/crypto/secretbox.ts';
import { benchExport } from './export-bench.ts';
import { startBenchServer, stop, timedDcs } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = path.join(ROOT, '.bench', 'export-data');
const BACKUP_DIR = path.join(ROOT, '.bench', 'backup-files');

/** A dcs command timed, its progress (stderr) shown on one line. */
async function timed(env: NodeJS.ProcessEnv, postmaster: number, args: string[]) {
  const run = await timedDcs(ROOT, env, postmaster, args, (text) => process.stdout.write(`\r  ${text.trim().split('\n').pop()!.slice(0, 110).padEnd(110)}`));
  process.stdout.write('\n');
  return run;
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
    await server.db.query('INSERT INTO backup_queue (bundle_id, bundle_received_at) SELECT id, received_at FROM bundles ON CONFLICT DO NOTHING');
    await server.db.query('DROP DATABASE IF EXISTS dcs_restored WITH (FORCE)');
    await server.db.query('CHECKPOINT');
    const { rows: [study] } = await server.db.query('SELECT (SELECT count(*) FROM bundles)::int AS bundles, (SELECT sum(points_added) FROM bundles)::int AS points');
    console.log(`study: ${int(study.bundles)} bundles, ${int(study.points)} points; load ${load()}`);

    const loadBefore = load();
    const backup = await timed(server.env, server.postmaster, ['backup', 'run']);
    const files = fs.readdirSync(BACKUP_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const bytes = files.reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
    const backupLine = `| backup run (every bundle) | ${backup.seconds.toFixed(1)} s | ${int(study.bundles / backup.seconds)} | ${int(study.points / backup.seconds)} | ${backup.cpuSeconds.toFixed(1)} + ${backup.postgresCpuSeconds.toFixed(1)} s | ${backup.peakRssMb.toFixed(0)} MB | ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB | ${loadBefore} → ${load()} |`;
    console.log(backupLine);

    await server.db.query('CREATE DATABASE dcs_restored');
    const restoredUrl = new URL(`postgres://postgres:${encodeURIComponent(server.db.password!)}@127.0.0.1:${server.db.port}/dcs_restored`).toString();
    const restoreEnv = { ...server.env, DATABASE_URL: restoredUrl, DATA_DIR: path.join(DATA_DIR, 'restore-cli'), LOG_LEVEL: 'warn' };
    const restoreLoad = load();
    const restore = await timed(restoreEnv, server.postmaster, ['restore', '--from', BACKUP_DIR]);
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
