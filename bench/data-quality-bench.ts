/**
 * `npm run bench -- data-quality`: the data-quality job on BENCH_DQ_SOURCES (10,000) sources after
 * BENCH_DQ_POINTS (1,000,000) new points and their uploads. Target: under 20 s (issue 21 §5).
 *
 * `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off); points written by SQL in the
 * shape of a real history visit (sample 21: metadata with a time zone), ids interleaving the
 * sources as processing stores them, created over the last 3 days; one processed upload per 10
 * points. Some traffic is bad, as in a real study: 50 sources from HeadlessChrome, 50 with a clock
 * 3 years back, 10 with 2,000 more points created in one minute, 10 sharing an identifier between two browsers,
 * 10 `dev-*` identifiers, 20 re-sending one upload 30 times. Then `dcs run-job data-quality`, as
 * the schedule runs it, timed with its CPU and PostgreSQL's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { startBenchServer, stop, timedDcs } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = Number(process.env.BENCH_DQ_SOURCES ?? 10_000);
const POINTS = Number(process.env.BENCH_DQ_POINTS ?? 1_000_000);
const SAMPLE = (JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'sample-points.json'), 'utf8')) as Record<string, unknown>[])[21];
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36';
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/144.0.0.0 Safari/537.36';
const BURST_POINTS = 20_000;
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

async function seed(db: pg.Client): Promise<void> {
  const source = `CASE WHEN s BETWEEN 150 AND 159 THEN 'dev-' || s ELSE 'P' || lpad(s::text, 5, '0') END`;
  await db.query(`INSERT INTO data_sources (source, first_seen, point_count) SELECT ${source}, now() - interval '3 days', $2 / $1 FROM generate_series(0, $1 - 1) s`, [SOURCES, POINTS]);
  // one upload per 10 points, then 30 re-sends of one upload for 20 sources (points all stored already)
  await db.query(
    `INSERT INTO bundles (endpoint, transport, body, status, processed_at, point_count, points_added, points_rejected, sources)
     SELECT 'bundle', 'form', '\\x00', 'processed', now() - interval '1 minute', 10, CASE WHEN b < $2 / 10 THEN 10 ELSE 0 END, 0,
            ARRAY[(SELECT ${source} FROM (SELECT CASE WHEN b < $2 / 10 THEN b % $1 ELSE 200 + b % 20 END AS s) x)]
     FROM generate_series(0, $2 / 10 + 600 - 1) b`,
    [SOURCES, POINTS],
  );
  const text = JSON.stringify(SAMPLE);
  const batch = 200_000;
  for (let from = 0; from < POINTS; from += batch) {
    // i % SOURCES: sources interleave; k = i / SOURCES: each source's k-th point
    await db.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT ${source}, 'webmunk-history-visit', 'webmunk-history-visit: ' || ua, ua, created, 'timestamp', now() - interval '1 minute', 1 + i / 10, md5(i::text)::uuid,
              jsonb_set($4::jsonb, '{passive-data-metadata,timezone}', to_jsonb(CASE WHEN s BETWEEN 140 AND 149 AND k % 2 = 1 THEN 'Europe/Berlin' ELSE 'America/New_York' END))
       FROM (SELECT i, i % $3 AS s, i / $3 AS k FROM generate_series($1::bigint, $2::bigint - 1) i) n,
       LATERAL (SELECT CASE WHEN s < 50 THEN $5 WHEN s BETWEEN 140 AND 149 AND k % 2 = 1 THEN $7 ELSE $6 END AS ua,
                       CASE WHEN s BETWEEN 50 AND 99 THEN now() - interval '3 years' - make_interval(mins => k::int)
                            WHEN s BETWEEN 140 AND 149 THEN now() - interval '1 day' + make_interval(mins => k::int)
                            ELSE now() - make_interval(secs => ((i * 7919) % 259200)::float8) END AS created) v`,
      [from, Math.min(POINTS, from + batch), SOURCES, text, HEADLESS, CHROME, FIREFOX],
    );
    process.stdout.write(`\r  seeded ${Math.min(POINTS, from + batch).toLocaleString('en')} / ${POINTS.toLocaleString('en')} points   `);
  }
  // the 10 busy sources' burst: 2,000 points each more, all created within one minute
  await db.query(
    `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
     SELECT 'P' || lpad((100 + i % 10)::text, 5, '0'), 'webmunk-history-visit', 'webmunk-history-visit: ' || $2, $2,
            date_trunc('minute', now() - interval '2 hours') + make_interval(secs => (i / 10) * 0.025), 'timestamp', now() - interval '1 minute', 1, md5('burst' || i)::uuid, $1::jsonb
     FROM generate_series(0, ${BURST_POINTS - 1}) i`,
    [text, CHROME],
  );
  process.stdout.write('\n');
  await db.query('VACUUM ANALYZE data_points');
  await db.query('VACUUM ANALYZE bundles');
}

export async function benchDataQuality(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'data-quality-data');
  const { env, server, db, postmaster } = await startBenchServer(ROOT, dataDir, {});
  try {
    await seed(db);
    const run = await timedDcs(ROOT, env, postmaster, ['run-job', 'data-quality']);
    const { rows } = await db.query(
      `SELECT kind, count(*) FILTER (WHERE raised_at IS NOT NULL)::int AS raised, count(*)::int AS seen FROM data_quality_flags GROUP BY 1 ORDER BY 1`,
    );
    await db.end();
    console.log(`\n${run.stdout.trim()}\n`);
    console.log('| case | time (job) | CPU: job, PostgreSQL | peak RSS | flags raised (sources with evidence) |\n| --- | --- | --- | --- | --- |');
    console.log(`| data-quality, ${SOURCES.toLocaleString('en')} sources, ${(POINTS + BURST_POINTS).toLocaleString('en')} new points, ${(POINTS / 10 + 600).toLocaleString('en')} uploads | ${run.seconds.toFixed(1)} s | ${run.cpuSeconds.toFixed(1)} s, ${run.postgresCpuSeconds.toFixed(1)} s | ${run.peakRssMb.toFixed(0)} MB | ${rows.map((r) => `${r.kind} ${r.raised} (${r.seen})`).join(', ')} |`);
  } finally {
    await stop(server);
  }
}
