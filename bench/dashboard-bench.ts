/**
 * `npm run bench -- dashboard` (or BENCH_CASE=dashboard): the staff dashboard at study scale, with
 * its data built as a study builds it (issue 17):
 *
 *  1. `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off, so nothing runs behind the
 *     measurements; its processing thread on, as always).
 *  2. The roster (10,000 sources in 20 groups; BENCH_GROUPS=0: ungrouped) uploaded as a source
 *     list on the home page; then each source's 30 real-format points over the last 14 days
 *     uploaded through /data/add-bundle.json (3 gzip bundles per source, in the order they would
 *     have been sent) and processed by the server; then `dcs run-job source-statistics` and
 *     `status-checks`.
 *  3. New points from 1,000 sources uploaded and processed, and the time of the `source-statistics`
 *     run that folds them in (target < 10 s), then `status-checks`.
 *  4. Logged in as a staff user, 4 concurrent clients request the home page (first, middle and last
 *     page, sorted by latest point) and a source page, 20 requests to warm up and 200 measured:
 *     p50/p95/max per case (target p95 < 150 ms), the server's own time per request (its
 *     Server-Timing header), and the CPU per request of the dcs process and of PostgreSQL, with
 *     the load average, since other work on the machine distorts wall times.
 *
 * BENCH_DASHBOARD_REUSE=1 measures again on the data of the previous run (step 4 only). Prints a
 * Markdown table; BENCHMARKS.md records the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newPointUploads, rosterTsv, sourceId, studyUploads } from './dashboard-study.ts';
import { cpuSeconds, samplePeakRss, stop, waitForLine } from './processes.ts';
import { drive } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = Number(process.env.BENCH_SOURCES ?? 10_000);
/** Groups of the roster; 0: every source ungrouped (one run of 10,000 on the home page). */
const GROUPS = Number(process.env.BENCH_GROUPS ?? 20);
const POINTS_PER_SOURCE = Number(process.env.BENCH_POINTS_PER_SOURCE ?? 30);
const NEW_POINT_SOURCES = Math.min(SOURCES, 1_000);
const NEW_POINTS_PER_SOURCE = 64;
const CLIENTS = 4;
const REQUESTS_PER_CASE = Number(process.env.BENCH_REQUESTS ?? 200);
const PAGE_SIZE = 100;
const REUSE = process.env.BENCH_DASHBOARD_REUSE === '1';
const BUILT = 'study-built';

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

const loadAverage = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function logIn(baseUrl: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${baseUrl}/data/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'bench', password: 'bench password' }).toString(),
  });
  if (response.status !== 303) throw new Error(`login answered ${response.status}`);
  const cookie = response.headers.getSetCookie()[0].split(';')[0];
  const home = await (await fetch(`${baseUrl}/data/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1];
  if (!csrf) throw new Error('no CSRF token on the home page');
  return { cookie, csrf };
}

/** The roster, as staff upload it on the home page (multipart, CSRF token in the query). */
async function uploadRoster(baseUrl: string, login: { cookie: string; csrf: string }): Promise<string> {
  const form = new FormData();
  form.append('upload_file', new Blob([rosterTsv(SOURCES, GROUPS)], { type: 'text/tab-separated-values' }), 'data-sources.tsv');
  const response = await fetch(`${baseUrl}/data/sources.tsv?_csrf=${encodeURIComponent(login.csrf)}`, { method: 'POST', redirect: 'manual', headers: { cookie: login.cookie }, body: form });
  const location = response.headers.get('location') ?? '';
  if (response.status !== 303 || !location.includes('done=')) throw new Error(`the roster upload answered ${response.status} ${location}`);
  return new URL(location, baseUrl).searchParams.get('subject') ?? '';
}

interface Pids {
  dcs: number;
  postmaster: number;
}

/** Uploads, waits until every bundle is processed; the wall time and the CPU of dcs and PostgreSQL. */
async function uploadAndProcess(port: number, db: pg.Client, uploads: Parameters<typeof drive>[1], pids: Pids): Promise<string> {
  const started = performance.now();
  const cpu = { dcs: cpuSeconds(pids.dcs), postgres: cpuSeconds(pids.postmaster, true) };
  const sent = await drive(port, uploads);
  if (sent.failures > 0) throw new Error(`${sent.failures} uploads failed`);
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
    if (rows[0].n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const points = uploads.reduce((sum, u) => sum + u.points, 0);
  const bytes = uploads.reduce((sum, u) => sum + u.body.length, 0);
  return `${points.toLocaleString('en')} points in ${uploads.length.toLocaleString('en')} bundles (${(bytes / 2 ** 20).toFixed(0)} MB on the wire) uploaded and processed in ${((performance.now() - started) / 1000).toFixed(1)} s, `
    + `CPU dcs ${(cpuSeconds(pids.dcs) - cpu.dcs).toFixed(1)} s + PostgreSQL ${(cpuSeconds(pids.postmaster, true) - cpu.postgres).toFixed(1)} s (load ${loadAverage()})`;
}

interface CaseResult {
  p50: number;
  p95: number;
  max: number;
  /** the server's own time (Server-Timing `total`), p50 and p95 */
  serverP50: number;
  serverP95: number;
  bytes: number;
  /** CPU ms per request of the dcs process, of the PostgreSQL sessions serving it, and of all of PostgreSQL (autovacuum too) */
  dcsCpuMs: number;
  sessionsCpuMs: number;
  postgresCpuMs: number;
  load: string;
}

/** CPU seconds so far of each PostgreSQL session but `db`'s own (the server's connections). */
async function sessionCpu(db: pg.Client): Promise<Map<number, number>> {
  const { rows } = await db.query(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
  return new Map(rows.map((r) => [r.pid as number, cpuSeconds(r.pid)]));
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Requests of each case sent before measuring: a server that has just started compiles its code first. */
const WARM_UP = 20;

/** CLIENTS concurrent clients, REQUESTS_PER_CASE requests in all, after WARM_UP. */
async function measure(url: string, cookie: string, mustContain: string, pids: Pids, db: pg.Client): Promise<CaseResult> {
  const check = await fetch(url, { headers: { cookie } });
  const text = await check.text();
  if (check.status !== 200 || !text.includes(mustContain)) throw new Error(`${url} answered ${check.status} without "${mustContain}"`);
  for (let i = 0; i < WARM_UP; i++) await (await fetch(url, { headers: { cookie } })).arrayBuffer();
  const load = loadAverage();
  const times: number[] = [];
  const serverTimes: number[] = [];
  const cpuBefore = { dcs: cpuSeconds(pids.dcs), postgres: cpuSeconds(pids.postmaster, true), sessions: await sessionCpu(db) };
  let remaining = REQUESTS_PER_CASE;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (remaining-- > 0) {
      const started = performance.now();
      const response = await fetch(url, { headers: { cookie } });
      await response.arrayBuffer();
      times.push(performance.now() - started);
      const total = /total;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '');
      if (total) serverTimes.push(Number(total[1]));
    }
  }));
  const cpuMs = (before: number, after: number) => ((after - before) * 1000) / REQUESTS_PER_CASE;
  const dcsCpuMs = cpuMs(cpuBefore.dcs, cpuSeconds(pids.dcs));
  const postgresCpuMs = cpuMs(cpuBefore.postgres, cpuSeconds(pids.postmaster, true));
  // sessions opened during the case count from 0; one that ended during it is missed (the pool keeps them)
  const sessions = [...(await sessionCpu(db))].reduce((sum, [pid, seconds]) => sum + seconds - (cpuBefore.sessions.get(pid) ?? 0), 0);
  const sessionsCpuMs = (sessions * 1000) / REQUESTS_PER_CASE;
  times.sort((a, b) => a - b);
  serverTimes.sort((a, b) => a - b);
  return {
    p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times[times.length - 1],
    serverP50: serverTimes.length ? percentile(serverTimes, 0.5) : NaN, serverP95: serverTimes.length ? percentile(serverTimes, 0.95) : NaN,
    bytes: text.length, dcsCpuMs, sessionsCpuMs, postgresCpuMs, load,
  };
}

/** Steps 2 and 3: the study through the upload endpoint, processing and the statistics job. */
async function buildStudy(baseUrl: string, port: number, db: pg.Client, env: NodeJS.ProcessEnv, pids: Pids): Promise<string[]> {
  const notes: string[] = [];
  const login = await logIn(baseUrl);
  console.log(`roster: ${await uploadRoster(baseUrl, login)}`);
  const uploads = studyUploads({ sources: SOURCES, perSource: POINTS_PER_SOURCE, bundlesPerSource: 3, days: 14, now: Date.now() });
  console.log(`uploading ${uploads.length.toLocaleString('en')} bundles from ${SOURCES.toLocaleString('en')} sources (load ${loadAverage()})`);
  notes.push(await uploadAndProcess(port, db, uploads, pids));
  console.log(notes.at(-1));
  const firstFold = await runJob('source-statistics', env);
  const checks = await runJob('status-checks', env);
  notes.push(`first source-statistics ${firstFold.seconds.toFixed(1)} s; status-checks ${checks.seconds.toFixed(1)} s (${checks.output.replace(/\s+/g, ' ')})`);
  console.log(notes.at(-1));

  const fresh = newPointUploads({ sources: NEW_POINT_SOURCES, perSource: NEW_POINTS_PER_SOURCE, now: Date.now() });
  notes.push(`new points from ${NEW_POINT_SOURCES.toLocaleString('en')} sources: ${await uploadAndProcess(port, db, fresh, pids)}`);
  const fold = await runJob('source-statistics', env);
  await runJob('status-checks', env);
  notes.push(`source-statistics after them ${fold.seconds.toFixed(2)} s (target < 10 s)`);
  console.log(notes.slice(-2).join('\n'));
  return notes;
}

function openDatabase(dataDir: string): Promise<pg.Client> {
  const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const pgPort = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const db = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'dcs' });
  db.on('error', () => undefined); // the server stopping at the end ends this connection too
  return db.connect().then(() => db);
}

export async function benchDashboard(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'dashboard-data');
  const reuse = REUSE && fs.existsSync(path.join(dataDir, BUILT));
  if (!reuse) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
  }
  // The study's 10,000 participants all upload from 127.0.0.1 here: no per-address upload limit.
  const env: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2', ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', JOBS_DISABLED: 'true', UPLOAD_RATE_PER_MINUTE: '0' };
  delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, ['--max-semi-space-size=4', path.join(ROOT, 'bin', 'dcs.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = samplePeakRss(child.pid!);
  try {
    const port = Number((await waitForLine(child, /listening on http:\/\/[^:]+:(\d+)/, 120_000))[1]);
    const baseUrl = `http://127.0.0.1:${port}`;
    const db = await openDatabase(dataDir);
    const pids = { dcs: child.pid!, postmaster: Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]) };
    let notes: string[];
    if (reuse) {
      notes = JSON.parse(fs.readFileSync(path.join(dataDir, BUILT), 'utf8'));
      console.log(`measuring again on the study of the previous run:\n${notes.join('\n')}`);
    } else {
      const created = await dcs(['users', 'create', 'bench'], env, 'bench password\n');
      if (created.code !== 0) throw new Error(created.stderr);
      notes = await buildStudy(baseUrl, port, db, env, pids);
      fs.writeFileSync(path.join(dataDir, BUILT), JSON.stringify(notes));
    }
    const { rows: [counts] } = await db.query(`SELECT (SELECT count(*) FROM data_sources)::int AS sources, (SELECT count(*) FROM alerts WHERE active)::int AS alerts`);

    const { cookie } = await logIn(baseUrl);
    const pages = Math.ceil(counts.sources / PAGE_SIZE);
    const home = (page: number) => `${baseUrl}/data/?sort=latest&dir=desc&page=${page}`;
    const busiest = sourceId(1);
    const cases: [string, string, string][] = [
      ['home, first page, sorted by latest point', home(1), 'data-source="P'],
      [`home, middle page (${Math.ceil(pages / 2)}), sorted by latest point`, home(Math.ceil(pages / 2)), 'data-source="P'],
      [`home, last page (${pages}), sorted by latest point`, home(pages), 'data-source="P'],
      [`source page (${busiest})`, `${baseUrl}/data/source/${busiest}`, busiest],
    ];
    const rows: string[] = [];
    const ms = (value: number) => (Number.isNaN(value) ? '–' : `${value.toFixed(1)} ms`);
    for (const [label, url, mustContain] of cases) {
      const r = await measure(url, cookie, mustContain, pids, db);
      console.log(`${label}: p50 ${ms(r.p50)}, p95 ${ms(r.p95)}, max ${ms(r.max)}; server p50 ${ms(r.serverP50)} p95 ${ms(r.serverP95)}; CPU/request dcs ${ms(r.dcsCpuMs)}, PostgreSQL sessions ${ms(r.sessionsCpuMs)} (all of PostgreSQL ${ms(r.postgresCpuMs)}) (${(r.bytes / 1024).toFixed(0)} KB; load ${r.load})`);
      rows.push(`| ${label} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${ms(r.serverP50)} / ${ms(r.serverP95)} | ${ms(r.dcsCpuMs)} + ${ms(r.sessionsCpuMs)} (${ms(r.postgresCpuMs)}) | ${(r.bytes / 1024).toFixed(0)} KB | ${r.load} |`);
    }
    await db.end();
    console.log([
      '',
      ...notes,
      `${counts.sources.toLocaleString('en')} sources in ${GROUPS || 'no'} groups, ${counts.alerts.toLocaleString('en')} active alerts`,
      '',
      `| page (${CLIENTS} concurrent clients, ${REQUESTS_PER_CASE} requests a case; target p95 < 150 ms) | p50 | p95 | max | server p50 / p95 | CPU/request: dcs + PostgreSQL sessions (all of PostgreSQL) | size | load average |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `server peak RSS ${rss.stop().toFixed(0)} MB; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    ].join('\n'));
  } finally {
    rss.stop();
    await stop(child);
  }
}
