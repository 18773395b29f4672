/**
 * What one more index on data_points costs processing: `node --import tsx bench/index-cost.ts`.
 * The ingest benchmark's uploads (bench/uploads.ts) are stored once by `dcs serve`; then processing
 * alone (bench/processing-alone.ts, one loop) runs BENCH_INDEX_RUNS (6) times on them, alternating
 * without and with the index of BENCH_INDEX_SQL (default: the one migration 0016 adds), every run
 * from the same empty tables after a CHECKPOINT. The machine is shared and noisy: compare the
 * alternating pairs, and CPU per point more than points/s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlone, startDcs } from './dcs-runs.ts';
import { stop } from './processes.ts';
import { buildUploads, drive } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_INDEX_RUNS ?? 6);
const INDEX_SQL = process.env.BENCH_INDEX_SQL ?? 'CREATE INDEX data_points_source_created ON data_points (source, created)';
const INDEX_NAME = /CREATE (?:UNIQUE )?INDEX (\w+)/i.exec(INDEX_SQL)![1];

const uploads = buildUploads();
const totalPoints = uploads.reduce((sum, u) => sum + u.points, 0);
const server = await startDcs(ROOT, path.join(ROOT, '.bench', 'index-cost'), 'serve');
try {
  const run = await drive(server.port, uploads);
  if (run.failures > 0) throw new Error(`${run.failures} uploads failed`);
  console.log(`${uploads.length} uploads, ${totalPoints} points stored raw; index: ${INDEX_SQL}\n`);
  console.log('| run | index | points/s | processing µs/point | PostgreSQL µs/point | load average |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (let i = 0; i < RUNS; i++) {
    const withIndex = i % 2 === 1;
    await server.db.query(`TRUNCATE data_points, data_point_files, source_point_deltas, data_sources CASCADE`);
    await server.db.query(`UPDATE bundles SET status = 'pending', attempts = 0, error = NULL, processed_at = NULL, point_count = NULL, points_added = NULL, points_rejected = NULL, rejections = NULL, sources = NULL`);
    await server.db.query(`DROP INDEX IF EXISTS ${INDEX_NAME}`);
    if (withIndex) await server.db.query(INDEX_SQL);
    await server.db.query('VACUUM ANALYZE bundles');
    await server.db.query('CHECKPOINT');
    const result = await processAlone(server.url, server.postmaster, totalPoints);
    const { rows } = await server.db.query('SELECT count(*)::int AS n FROM data_points');
    if (rows[0].n !== totalPoints) throw new Error(`stored ${rows[0].n} of ${totalPoints} points`);
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`| ${i + 1} | ${withIndex ? 'with' : 'without'} | ${Math.round(result.pointsPerSecond).toLocaleString('en-US')} | ${result.node.toFixed(1)} | ${result.postgres.toFixed(1)} | ${load} |`);
  }
} finally {
  await server.db.end();
  await stop(server.child);
}
