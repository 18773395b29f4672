/**
 * `npm run bench -- dashboard` (or BENCH_CASE=dashboard): the staff dashboard at study scale.
 *
 *  1. `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off, so nothing runs behind the
 *     measurements); 10,000 sources in 20 groups and 5 million points over 60 days written
 *     straight into data_points by SQL (uploading them would take most of an hour), counted
 *     through source_point_deltas exactly as processing does, then `dcs run-job
 *     source-statistics` and `status-checks`.
 *  2. 100,000 new points uploaded over HTTP (64-point gzip bundles from 1,000 sources), processed,
 *     then the time of the `source-statistics` run that folds them in (target < 10 s).
 *  3. Logged in as a staff user, 4 concurrent clients request the home page (first, middle and
 *     last page, sorted by latest point) and a source page: p50/p95 per case (target p95 < 150 ms).
 * Prints a Markdown table; BENCHMARKS.md records the figures.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { samplePeakRss, stop, waitForLine } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = Number(process.env.BENCH_SOURCES ?? 10_000);
const POINTS = Number(process.env.BENCH_POINTS ?? 5_000_000);
const NEW_POINTS = Number(process.env.BENCH_NEW_POINTS ?? 100_000);
const CLIENTS = 4;
const REQUESTS_PER_CASE = Number(process.env.BENCH_REQUESTS ?? 200);
const PAGE_SIZE = 100;

const TYPES = ['webmunk-extension-element-show', 'webmunk-extension-element-hide', 'webmunk-extension-matched-rule', 'webmunk-extension-class-added', 'webmunk-extension-scroll-position', 'pdk-system-status'];
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
const sourceId = (n: number) => `P${String(n).padStart(5, '0')}`;

function dcs(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dcs.js'), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `dcs run-job NAME`, timed from outside; throws if it fails. */
async function runJob(name: string, env: NodeJS.ProcessEnv): Promise<{ seconds: number; output: string }> {
  const started = performance.now();
  const result = await dcs(['run-job', name], env);
  if (result.code !== 0) throw new Error(`run-job ${name} failed: ${result.stderr}`);
  // The job's own duration, as it reports it (the command's start-up is not the job's time).
  const reported = /succeeded in ([\d.]+) s/.exec(result.stdout);
  return { seconds: reported ? Number(reported[1]) : (performance.now() - started) / 1000, output: result.stdout.trim() };
}

async function seed(db: pg.Client): Promise<void> {
  await db.query(`INSERT INTO source_groups (name) SELECT 'Cohort ' || g FROM generate_series(1, 20) g`);
  const chunk = 500_000;
  for (let from = 0; from < POINTS; from += chunk) {
    const to = Math.min(POINTS, from + chunk);
    // Source n is silent for (n % 72) hours, so the home page sorted by latest point has every age.
    await db.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT s.id, t.type, t.type || ': Webmunk Study Extension/0.3.1 ' || s.ua, s.ua, c.created, 'timestamp', c.created + interval '2 minutes', 0, md5(i::text)::uuid,
              jsonb_build_object('url*', 'https://www.amazon.com/s?k=item' || (i % 977), 'page-title*', 'Amazon.com : item ' || (i % 977),
                'element-class', 'webmunk-asin-item', 'pending-points', i % 50, 'tab-id', i,
                'passive-data-metadata', jsonb_build_object('source', s.id, 'generator-id', t.type, 'timestamp', extract(epoch FROM c.created)))
       FROM generate_series($1::bigint, $2::bigint - 1) i
       CROSS JOIN LATERAL (SELECT 'P' || lpad((i % $3)::text, 5, '0') AS id,
                                  CASE WHEN i % $3 % 100 = 7 THEN $5 ELSE $4 END AS ua) s
       CROSS JOIN LATERAL (SELECT ($6::text[])[1 + (i / $3) % ${TYPES.length}] AS type) t
       CROSS JOIN LATERAL (SELECT now() - make_interval(hours => (i % $3 % 72)::int) - (((i * 7919) % 5000000) / 5000000.0) * interval '58 days' AS created) c`,
      [from, to, SOURCES, CHROME, HEADLESS, TYPES],
    );
    process.stdout.write(`\r  seeded ${to.toLocaleString('en')} / ${POINTS.toLocaleString('en')} points`);
  }
  process.stdout.write('\n');
  await db.query(
    `INSERT INTO data_sources (source, first_seen, latest_point_created, latest_point_recorded, latest_user_agent, point_count, name, group_id)
     SELECT source, min(recorded), max(created), max(recorded), max(user_agent), count(*),
            CASE WHEN right(source, 1) IN ('0', '5') THEN 'Participant ' || source END,
            (SELECT id FROM source_groups ORDER BY id OFFSET (substring(source FROM 2)::int % 21) LIMIT 1)
     FROM data_points GROUP BY source`,
  );
  // What processing appends for each batch (record-batch.sql.ts), for the whole seed at once.
  await db.query(
    `INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created, received_at, recorded)
     SELECT source, generator_id, user_agent, date_bin('10 minutes', created, timestamptz '2000-01-01 00:00:00+00'),
            count(*), min(created), max(created), max(recorded), max(recorded)
     FROM data_points GROUP BY 1, 2, 3, 4`,
  );
  await db.query('VACUUM ANALYZE');
}

function newPointBundles(): string[] {
  const bundles: string[] = [];
  const now = Date.now() / 1000;
  for (let n = 0; n < NEW_POINTS; n += 64) {
    const source = sourceId((n / 64) % 1000);
    const points = Array.from({ length: Math.min(64, NEW_POINTS - n) }, (_, k) => ({
      'url*': `https://www.amazon.com/dp/B0${String(n + k).padStart(8, '0')}`,
      'page-title*': 'Amazon.com: a product',
      'element-class': 'webmunk-asin-item',
      'passive-data-metadata': { source, generator: `${TYPES[k % 5]}: Webmunk Study Extension/0.3.1 ${CHROME}`, 'generator-id': TYPES[k % 5], timestamp: now - (n + k) / 1000 },
    }));
    bundles.push(new URLSearchParams({ compression: "gzip", payload: gzipSync(JSON.stringify(points)).toString("base64") }).toString());
  }
  return bundles;
}

async function upload(baseUrl: string, bundles: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < bundles.length) {
      const body = bundles[next++];
      const response = await fetch(`${baseUrl}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
    }
  }));
}

async function logIn(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/data/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'bench', password: 'bench password' }).toString(),
  });
  if (response.status !== 303) throw new Error(`login answered ${response.status}`);
  return response.headers.getSetCookie()[0].split(';')[0];
}

/** CLIENTS concurrent clients, REQUESTS_PER_CASE requests in all: latency percentiles in ms. */
async function measure(url: string, cookie: string, mustContain: string): Promise<{ p50: number; p95: number; max: number; bytes: number }> {
  const check = await fetch(url, { headers: { cookie } });
  const text = await check.text();
  if (check.status !== 200 || !text.includes(mustContain)) throw new Error(`${url} answered ${check.status} without "${mustContain}"`);
  const times: number[] = [];
  let remaining = REQUESTS_PER_CASE;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (remaining-- > 0) {
      const started = performance.now();
      const response = await fetch(url, { headers: { cookie } });
      await response.arrayBuffer();
      times.push(performance.now() - started);
    }
  }));
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p95: at(0.95), max: times[times.length - 1], bytes: text.length };
}

export async function benchDashboard(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'dashboard-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2', ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', JOBS_DISABLED: 'true' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--max-semi-space-size=4', path.join(ROOT, 'bin', 'dcs.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = samplePeakRss(child.pid!);
  try {
    const port = Number((await waitForLine(child, /listening on http:\/\/[^:]+:(\d+)/, 120_000))[1]);
    const baseUrl = `http://127.0.0.1:${port}`;
    const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
    const pgPort = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
    const db = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'dcs' });
    await db.connect();

    let started = performance.now();
    console.log(`seeding ${SOURCES.toLocaleString('en')} sources and ${POINTS.toLocaleString('en')} points`);
    await seed(db);
    const seedSeconds = (performance.now() - started) / 1000;
    const firstFold = await runJob('source-statistics', env);
    const checks = await runJob('status-checks', env);
    console.log(`seeded in ${seedSeconds.toFixed(0)} s; first source-statistics (all ${POINTS.toLocaleString('en')} points) ${firstFold.seconds.toFixed(1)} s; status-checks ${checks.seconds.toFixed(1)} s: ${checks.output}`);

    const bundles = newPointBundles();
    started = performance.now();
    await upload(baseUrl, bundles);
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { rows: stored } = await db.query('SELECT count(*)::int AS n FROM data_points');
    console.log(`${NEW_POINTS.toLocaleString('en')} new points uploaded and processed in ${((performance.now() - started) / 1000).toFixed(1)} s (${stored[0].n.toLocaleString('en')} points stored)`);
    const fold = await runJob('source-statistics', env);
    console.log(`source-statistics after ${NEW_POINTS.toLocaleString('en')} new points: ${fold.seconds.toFixed(2)} s (${fold.output})`);
    await runJob('status-checks', env);

    const created = await dcs(['users', 'create', 'bench'], env, 'bench password\n');
    if (created.code !== 0) throw new Error(created.stderr);
    const cookie = await logIn(baseUrl);
    const pages = Math.ceil(SOURCES / PAGE_SIZE);
    const home = (page: number) => `${baseUrl}/data/?sort=latest&dir=desc&page=${page}`;
    const busiest = sourceId(1);
    const cases: [string, string, string][] = [
      ['home, first page, sorted by latest point', home(1), sourceId(0).slice(0, 3)],
      [`home, middle page (${Math.ceil(pages / 2)}), sorted by latest point`, home(Math.ceil(pages / 2)), 'P'],
      [`home, last page (${pages}), sorted by latest point`, home(pages), 'P'],
      [`source page (${busiest}, ${Math.round(POINTS / SOURCES)} points)`, `${baseUrl}/data/source/${busiest}`, busiest],
    ];
    const rows: string[] = [];
    for (const [label, url, mustContain] of cases) {
      const result = await measure(url, cookie, mustContain);
      console.log(`${label}: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, max ${result.max.toFixed(1)} ms (${(result.bytes / 1024).toFixed(0)} KB)`);
      rows.push(`| ${label} | ${result.p50.toFixed(1)} ms | ${result.p95.toFixed(1)} ms | ${result.max.toFixed(1)} ms | ${(result.bytes / 1024).toFixed(0)} KB | < 150 ms |`);
    }
    await db.end();
    console.log([
      '',
      `| page (${CLIENTS} concurrent clients, ${REQUESTS_PER_CASE} requests each case) | p50 | p95 | max | page size | target p95 |`,
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      '| job | seconds | target |',
      '| --- | --- | --- |',
      `| source-statistics after ${NEW_POINTS.toLocaleString('en')} new points | ${fold.seconds.toFixed(2)} | < 10 |`,
      `| source-statistics, first run over all ${POINTS.toLocaleString('en')} points | ${firstFold.seconds.toFixed(1)} | |`,
      `| status-checks, ${SOURCES.toLocaleString('en')} sources | ${checks.seconds.toFixed(1)} | |`,
      '',
      `server peak RSS ${rss.stop().toFixed(0)} MB; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    ].join('\n'));
  } finally {
    rss.stop();
    await stop(child);
  }
}
