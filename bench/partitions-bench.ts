/**
 * `npm run bench -- partitions`: COPY into data_points partitioned by month (migration 0032) vs
 * the same table unpartitioned (issue 22 T6: ratio >= 0.9). The storage limit's pipeline
 * (bench/storage-limit.ts: the ingest bench's stored bundles decoded and COPYed in binary on two
 * connections, a warm-up pass then the median of three) runs into `limit_points` (plain) and
 * `limit_points_partitioned` (history, 12 months ahead, DEFAULT: bench/limits-db.ts), twice each,
 * alternating, on one embedded PostgreSQL. PostgreSQL's CPU per point is all its backends' within
 * the measured passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLimitsDatabase } from './limits-db.ts';
import { measureStorageLimit, type StorageLimit } from './storage-limit.ts';
import { buildUploads, median } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 2;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function benchPartitions(): Promise<void> {
  const uploads = buildUploads();
  const totalPoints = uploads.reduce((sum, u) => sum + u.points, 0);
  console.log(`${totalPoints} points in ${uploads.length} bundles; load average before: ${load()}`);
  const db = await openLimitsDatabase(path.join(ROOT, '.bench', 'partitions'));
  const runs: Record<'plain' | 'partitioned', StorageLimit[]> = { plain: [], partitioned: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, table] of [['plain', 'limit_points'], ['partitioned', 'limit_points_partitioned']] as const) {
        const run = await measureStorageLimit(db, uploads, totalPoints, path.join(ROOT, '.bench'), table);
        if (run.storedPoints !== totalPoints) throw new Error(`${table}: ${run.storedPoints} of ${totalPoints} points stored`);
        runs[kind].push(run);
        console.log(`${kind}: ${int(run.pointsPerSecond)} points/s (passes ${run.passes.join(', ')}), PostgreSQL ${run.cpuMicrosPerPoint.postgres.toFixed(1)} µs CPU per point`);
      }
    }
    const { rows } = await db.pool.query(
      `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM limit_points_partitioned GROUP BY 1 ORDER BY 1`,
    );
    console.log(`rows per partition: ${rows.map((r) => `${r.partition} ${int(r.n)}`).join(', ')}`);
  } finally {
    await db.close();
  }
  const rate = (kind: 'plain' | 'partitioned') => median(runs[kind].flatMap((r) => r.passes));
  const cpu = (kind: 'plain' | 'partitioned') => median(runs[kind].map((r) => r.cpuMicrosPerPoint.postgres));
  console.log('');
  console.log('| table | points/s (median of passes) | PostgreSQL CPU per point |');
  console.log('| --- | --- | --- |');
  console.log(`| plain | ${int(rate('plain'))} | ${cpu('plain').toFixed(1)} µs |`);
  console.log(`| partitioned by month | ${int(rate('partitioned'))} | ${cpu('partitioned').toFixed(1)} µs |`);
  console.log(`ratio partitioned/plain: ${(rate('partitioned') / rate('plain')).toFixed(2)} (target >= 0.90); load average after: ${load()}`);
}
