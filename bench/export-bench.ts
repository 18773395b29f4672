/**
 * `npm run bench -- export`: export throughput and memory.
 *
 *  1. `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off); BENCH_EXPORT_POINTS
 *     (default 2,000,000) element-show points of 200 sources, each the real sample point with its
 *     ~700-byte element HTML, and BENCH_MIXED_POINTS (default 600,000) points of the 12 nightly
 *     types received "yesterday", written straight into data_points by SQL.
 *  2. `dcs export --types webmunk-extension-element-show` of all of them: points/s and the
 *     process's peak RSS (sampled from /proc every 50 ms). Targets: >= 50,000 points/s, <= 256 MB.
 *  3. `dcs export nightly` for the mixed day (jobs of 10 sources, 12 types): points/s and peak RSS.
 * Prints a Markdown table; BENCHMARKS.md records the figures.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { samplePeakRss, startBenchServer, stop } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHOW_POINTS = Number(process.env.BENCH_EXPORT_POINTS ?? 2_000_000);
const MIXED_POINTS = Number(process.env.BENCH_MIXED_POINTS ?? 600_000);
const SOURCES = 200;
const SAMPLES = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'sample-points.json'), 'utf8')) as Record<string, unknown>[];
// sample index of each nightly type (webmunk-clients.md §8)
const MIXED = [1, 4, 0, 2, 3, 6, 5, 7, 10, 8];

/** A child `dcs` run, timed, with its peak RSS. */
function timedDcs(args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; peakRssMb: number; stdout: string; stderr: string; code: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=4', path.join(ROOT, 'bin', 'dcs.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = samplePeakRss(child.pid!, 50);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => {
    const peakRssMb = rss.stop();
    resolve({ seconds: (performance.now() - started) / 1000, peakRssMb, stdout, stderr, code });
  }));
}

async function seed(db: pg.Client): Promise<void> {
  const insert = async (template: Record<string, unknown>, count: number, offset: number, recorded: string) => {
    const chunk = 250_000;
    for (let from = 0; from < count; from += chunk) {
      const to = Math.min(count, from + chunk);
      await db.query(
        `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
         SELECT s.id, $4, $4 || ': Study Browser Extension/0.39', 'Chrome', c.created, 'timestamp', ${recorded}, 0, md5((i + $6)::text)::uuid,
                $5::jsonb || jsonb_build_object('tab-id', i, 'offset', jsonb_build_object('top', (i % 5000) + 0.5, 'left', i % 300),
                  'passive-data-metadata', ($5::jsonb -> 'passive-data-metadata') || jsonb_build_object('source', s.id, 'timestamp', extract(epoch FROM c.created)))
         FROM generate_series($1::bigint, $2::bigint - 1) i
         CROSS JOIN LATERAL (SELECT 'P' || lpad((i % $3)::text, 4, '0') AS id) s
         CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (i * 7.919) % (86400 * 60)) AS created) c`,
        [from, to, SOURCES, template.generatorId, JSON.stringify(template), offset],
      );
      process.stdout.write(`\r  ${template.generatorId}: ${to.toLocaleString('en')} / ${count.toLocaleString('en')}      `);
    }
  };
  await insert(SAMPLES[2], SHOW_POINTS, 0, `now() - interval '3 days'`);
  for (const [k, index] of MIXED.entries()) {
    // the mixed day: received yesterday (UTC), spread over it
    await insert(SAMPLES[index], Math.round(MIXED_POINTS / MIXED.length), 10_000_000 * (k + 1), `date_trunc('day', now()) - interval '1 day' + make_interval(secs => (i % 86000))`);
  }
  process.stdout.write('\n');
  await db.query(
    `INSERT INTO data_sources (source, first_seen, latest_point_created, latest_point_recorded, point_count)
     SELECT source, min(recorded), max(created), max(recorded), count(*) FROM data_points GROUP BY source`,
  );
  await db.query('VACUUM ANALYZE');
}

export async function benchExport(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'export-data');
  const { env, server, db } = await startBenchServer(ROOT, dataDir, { PUBLIC_URL: 'https://bench.example.org' });
  try {
    const seedStarted = performance.now();
    await seed(db);
    console.log(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);

    const rows: string[] = [];
    const show = await timedDcs(['export', '--types', 'webmunk-extension-element-show', '--out', path.join(dataDir, 'show.zip')], env);
    if (show.code !== 0) throw new Error(`dcs export failed: ${show.stderr}`);
    const showBytes = fs.statSync(path.join(dataDir, 'show.zip')).size;
    // the job's own time, as the command reports it (without starting Node and opening the database)
    const jobSeconds = Number(/points in ([\d.]+) s/.exec(show.stdout)?.[1]);
    rows.push(`| element-show TSV, ${SHOW_POINTS.toLocaleString('en')} points, ${SOURCES} sources | ${show.seconds.toFixed(1)} s (job ${jobSeconds.toFixed(1)} s) | ${Math.round(SHOW_POINTS / show.seconds).toLocaleString('en')} (job ${Math.round(SHOW_POINTS / jobSeconds).toLocaleString('en')}) | ${show.peakRssMb.toFixed(0)} MB | ${(showBytes / 1e6).toFixed(0)} MB |`);

    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const today = new Date().toISOString().slice(0, 10);
    const nightly = await timedDcs(['export', 'nightly', '--date', today], env);
    if (nightly.code !== 0) throw new Error(`dcs export nightly failed: ${nightly.stderr}`);
    const { rows: written } = await db.query(`SELECT sum(points_written)::int8 AS points, sum(file_bytes)::int8 AS bytes, count(*)::int AS jobs FROM report_jobs WHERE batch LIKE $1`, [`nightly:${yesterday}:%`]);
    const points = Number(written[0].points);
    rows.push(`| nightly (${yesterday}), 12 types, ${written[0].jobs} jobs of 10 sources, ${points.toLocaleString('en')} points | ${nightly.seconds.toFixed(1)} s | ${Math.round(points / nightly.seconds).toLocaleString('en')} | ${nightly.peakRssMb.toFixed(0)} MB | ${(Number(written[0].bytes) / 1e6).toFixed(0)} MB |`);
    await db.end();
    console.log('\n| case | time (whole command) | points/s | peak RSS | archive(s) |\n| --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await stop(server);
  }
}
