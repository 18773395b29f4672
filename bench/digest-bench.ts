/**
 * `npm run bench -- digests`: what content digests (issue 17 §3) cost.
 *
 *  1. Planning: CPU per point of plan-points.ts on the ingest load's points (bench/uploads.ts),
 *     and of the digest alone (content-digest.ts: the jsonb text printed from the point's text,
 *     then its SHA-256). Median of 7 passes over BENCH_FORM_BUNDLES (default 2,100) bundles.
 *  2. Migration 0009 on BENCH_DIGEST_POINTS (default 500,000) of those points stored the former
 *     way (by SQL: content_hash = jsonb_hash_extended, unique with `created`) on an embedded
 *     PostgreSQL started by the code `dcs start` uses: `dcs migrate`, run as a user runs it, timed
 *     (wall, its CPU, PostgreSQL's CPU) with the table's size before and after.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createPool } from '../src/db/database.ts';
import { openEmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { listMigrations } from '../src/db/migrate.ts';
import { createLogger } from '../src/log.ts';
import { digestOf, printJsonb } from '../src/processing/content-digest.ts';
import { emptyPlan, planBundle } from '../src/processing/plan-points.ts';
import { scanBundle } from '../src/processing/point-text.ts';
import { cpuSeconds } from './processes.ts';
import { buildUploads, median } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const POINTS = Number(process.env.BENCH_DIGEST_POINTS ?? 500_000);
const PASSES = 7;

const f = (n: number) => n.toFixed(2);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** CPU µs per point of `work`, the median of PASSES passes. */
function cpuPerPoint(points: number, work: () => void): number {
  return median(Array.from({ length: PASSES }, () => {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / points;
  }));
}

function benchPlanning(): void {
  const texts = buildUploads().map((u) => gunzipSync(u.stored.body).toString('utf8'));
  const values = texts.map((t) => JSON.parse(t) as unknown[]);
  const spans = texts.map((t) => scanBundle(t));
  const points = values.reduce((sum, v) => sum + v.length, 0);
  const claimed = (id: number) => ({ id, receivedMicros: 0, pointsRecordedMicros: null, imported: false, hasFiles: false, encrypted: false, compression: 'gzip', nonce: null, body: Buffer.alloc(0) });
  const planning = cpuPerPoint(points, () => {
    let plan = emptyPlan();
    texts.forEach((text, i) => {
      if (plan.decoded.length >= 8) plan = emptyPlan(); // ~2 MB batches, as claimed
      planBundle(plan, { bundle: claimed(i), text }, values[i], new Map(), true, new Set());
    });
  });
  const digests = cpuPerPoint(points, () => texts.forEach((text, i) => {
    for (const span of spans[i]) digestOf(printJsonb(text, span.start).jsonb!);
  }));
  console.log('| CPU | per point |');
  console.log('| --- | --- |');
  console.log(`| planning (plan-points.ts), ${int(points)} points | ${f(planning)} µs |`);
  console.log(`| of which the digest (jsonb text, SHA-256) | ${f(digests)} µs |`);
  console.log(`(load average ${load()})\n`);
}

/** Schema and points as a server before migration 0009 left them. */
async function seedTheFormerWay(pool: ReturnType<typeof createPool>): Promise<number> {
  await pool.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const migration of await listMigrations()) {
    if (migration.version >= 9) break;
    await pool.query(`BEGIN; ${migration.sql}; INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, '${migration.name}'); COMMIT`);
  }
  let stored = 0;
  while (stored < POINTS) {
    for (const upload of buildUploads()) {
      if (stored >= POINTS) break;
      const { rowCount } = await pool.query(
        `WITH b AS (INSERT INTO bundles (endpoint, transport, compression, body, status, processed_at, point_count, points_added, points_rejected)
                    VALUES ('bundle', 'form', 'gzip', $1, 'processed', now(), $3, $3, 0) RETURNING id)
         INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_hash, properties)
         SELECT j #>> '{passive-data-metadata,source}', j #>> '{passive-data-metadata,generator-id}', j #>> '{passive-data-metadata,generator}',
                btrim(split_part(j #>> '{passive-data-metadata,generator}', ':', 2)), dcs_epoch(j #> '{passive-data-metadata,timestamp}', 1),
                'timestamp', now(), b.id, jsonb_hash_extended(j, 0), jsonb_set(j, '{passive-data-metadata,encrypted_transmission}', 'false')
         FROM b, jsonb_array_elements($2::jsonb) j
         ON CONFLICT (created, content_hash) DO NOTHING`,
        [upload.stored.body, gunzipSync(upload.stored.body).toString('utf8'), upload.points],
      );
      stored += rowCount ?? 0;
    }
    process.stdout.write(`\r  stored ${int(stored)} points the former way   `);
  }
  process.stdout.write('\n');
  await pool.query('VACUUM ANALYZE data_points');
  await pool.query('CHECKPOINT');
  return stored;
}

async function heapMb(pool: ReturnType<typeof createPool>): Promise<number> {
  const { rows } = await pool.query(`SELECT pg_relation_size('data_points') / 1048576.0 AS mb`);
  return Number(rows[0].mb);
}

async function benchMigration(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'digests-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const log = createLogger('warn');
  const embedded = await openEmbeddedPostgres(dataDir, log);
  const pool = createPool(embedded.url, 2, log);
  try {
    const points = await seedTheFormerWay(pool);
    const before = await heapMb(pool);
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const loadBefore = load();
    const pgBefore = cpuSeconds(postmaster, true);
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dcs.js'), 'migrate'], {
      env: { ...process.env, DATABASE_URL: embedded.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    let childCpu = 0;
    const sampler = setInterval(() => (childCpu = Math.max(childCpu, cpuSeconds(child.pid!))), 200);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const pgCpu = cpuSeconds(postmaster, true) - pgBefore;
    if (code !== 0) throw new Error(`dcs migrate exited with ${code}`);
    const after = await heapMb(pool);
    const perMillion = (s: number) => (s * 1e6) / points;
    console.log(`\n| migration 0009 (\`dcs migrate\`), ${int(points)} points | |`);
    console.log('| --- | --- |');
    console.log(`| wall | ${f(seconds)} s (${int(perMillion(seconds))} s per million points) |`);
    console.log(`| CPU: PostgreSQL | ${f(pgCpu)} s (${int(perMillion(pgCpu))} s per million points) |`);
    console.log(`| CPU: the dcs migrate process, its start included | ${f(childCpu)} s |`);
    console.log(`| data_points heap | ${int(before)} MB -> ${int(after)} MB |`);
    console.log(`(load average ${loadBefore} before, ${load()} after)`);
  } finally {
    await pool.end();
    await embedded.release();
  }
}

export async function benchDigests(): Promise<void> {
  benchPlanning();
  await benchMigration();
}
