/**
 * `npm run bench -- api`: the PDK query API at study scale (issue 18 §1).
 *
 *  1. `dcs start` (jobs off) on a database of BENCH_API_SOURCES (10,000) participants and
 *     BENCH_API_POINTS (50,000,000) points built inside PostgreSQL (bench/api-study-data.ts), kept
 *     in .bench/api-data and reused by later runs with the same counts (building takes about an
 *     hour on 2 cores; BENCH_API_REBUILD=1 builds it again). Prints the database's size.
 *  2. `EXPLAIN (ANALYZE, BUFFERS)` of each call's SQL for a median and the heaviest participant;
 *     exits non-zero if any plan reads data_points with a Seq Scan.
 *  3. BENCH_API_CLIENTS (8) concurrent callers for BENCH_API_SECONDS (60) each, repeatedly picking a
 *     participant (uniformly over all, or over the 1% with the most points, in alternation) and
 *     making the enrollment server's calls (ecosystem-api.md §2.2.5) as its Python client sends them
 *     (bench/api-calls.ts). Per call and overall: calls, p50/p95/p99/max, calls/s, CPU of the server
 *     and of PostgreSQL, load average. Target: p95 < 50 ms per call.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildStudy, STUDY_VERSION } from './api-study-data.ts';
import type { PoolClient } from '../src/db/database.ts';
import { orderClause } from '../src/api/lookups.ts';
import { POINT_ORDER, queryPoints } from '../src/api/points.repository.ts';
import { callBody, isoformat, pollCalls, type Participant } from './api-calls.ts';
import { cpuSeconds, startBenchServer, stop, type BenchServer } from './processes.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = Number(process.env.BENCH_API_SOURCES ?? 10_000);
const POINTS = Number(process.env.BENCH_API_POINTS ?? 50_000_000);
const REBUILD = process.env.BENCH_API_REBUILD === '1';
const CLIENTS = Number(process.env.BENCH_API_CLIENTS ?? 8);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.BENCH_API_WARMUP_SECONDS ?? 10);
const DATA_DIR = path.join(ROOT, '.bench', process.env.BENCH_API_DIR ?? 'api-data');

export type ApiServer = BenchServer;

/** `dcs start` on DATA_DIR (wiped first unless `keep`); the first start on a kept database may build migration 0016's index. */
export function startApiServer(keep: boolean): Promise<ApiServer> {
  return startBenchServer(ROOT, DATA_DIR, { PUBLIC_URL: 'https://bench.example.org' }, { keep, startTimeoutMs: 3_600_000 });
}

/** The study's database, built unless the previous run left one with the same counts. */
export async function openStudy(): Promise<ApiServer> {
  const marker = path.join(DATA_DIR, 'bench-api.json');
  // STUDY_VERSION: a change to bench/api-study-data.ts builds the database again.
  const wanted = JSON.stringify({ SOURCES, POINTS, STUDY_VERSION });
  const reuse = !REBUILD && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === wanted;
  const starting = performance.now();
  const server = await startApiServer(reuse);
  console.log(`dcs start listening after ${((performance.now() - starting) / 1000).toFixed(0)} s (migrations included)`);
  if (!reuse) {
    fs.rmSync(marker, { force: true });
    const started = performance.now();
    await buildStudy(server.db, SOURCES, POINTS, (line) => console.log(`  ${line}`)).catch(async (error) => {
      await stop(server.server);
      throw error;
    });
    console.log(`built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    fs.writeFileSync(marker, wanted);
  }
  const { rows } = await server.db.query(`SELECT pg_size_pretty(pg_database_size(current_database())) AS database,
    pg_size_pretty(pg_table_size('data_points')) AS heap, pg_size_pretty(pg_indexes_size('data_points')) AS indexes`);
  console.log(`database ${rows[0].database} (data_points: heap ${rows[0].heap}, indexes ${rows[0].indexes})`);
  return server;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement each call runs, through auto_explain on a session of our own. */
async function explainCalls(server: ApiServer, chosen: Participant[]): Promise<boolean> {
  const { host, port, user, password, database } = server.db as unknown as pg.ClientConfig;
  const db = new pg.Client({ host, port, user, password, database });
  await db.connect();
  const plans: string[] = [];
  db.on('notice', (notice) => plans.push(notice.message ?? ''));
  await db.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
    SET auto_explain.log_buffers = on; SET auto_explain.log_level = notice; SET client_min_messages = notice`);
  let ok = true;
  try {
    for (const participant of chosen) {
      for (const call of pollCalls(participant)) {
        plans.length = 0;
        await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const filters = [{ recorded__lte: isoformat(new Date(), 123) }, ...call.filters];
        const result = await queryPoints(db as unknown as PoolClient, { filters, excludes: [], order: orderClause(POINT_ORDER, call.orderBy) }, call.pageSize, 0);
        await db.query('COMMIT');
        console.log(`\n#### ${call.name}: ${participant.source} (${int(participant.points)} points): count ${result.count}\n`);
        for (const plan of plans) {
          console.log('```\n' + plan + '\n```');
          if (/Seq Scan on data_points/.test(plan)) ok = false;
        }
      }
    }
  } finally {
    await db.end();
  }
  return ok;
}

/** `dcs tokens create NAME`: the token is the last line of its output. */
async function createToken(env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dcs.js'), 'tokens', 'create', name], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`dcs tokens create failed (${code}): ${stderr}`);
  return stdout.trim().split('\n').pop()!.trim();
}

async function participants(db: pg.Client): Promise<Participant[]> {
  const { rows } = await db.query(`SELECT source, point_count, first_seen, latest_point_created FROM data_sources ORDER BY point_count, source`);
  return rows.map((r) => ({ source: r.source, points: Number(r.point_count), enrolled: r.first_seen, latestCreated: r.latest_point_created }));
}

interface Timing {
  name: string;
  ms: number;
}

/** CLIENTS callers polling random participants of `pool` for `seconds`; every reply must be a 200 with a count. */
async function drivePolls(port: number, token: string, pool: Participant[], seconds: number): Promise<Timing[]> {
  const url = `http://127.0.0.1:${port}/data//api/data-points.json`;
  const timings: Timing[] = [];
  const until = performance.now() + seconds * 1000;
  const caller = async () => {
    while (performance.now() < until) {
      const participant = pool[Math.floor(Math.random() * pool.length)];
      for (const call of pollCalls(participant)) {
        const started = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: callBody(token, call, new Date()) });
        const text = await response.text();
        const ms = performance.now() - started;
        if (response.status !== 200) throw new Error(`${call.name} for ${participant.source}: ${response.status} ${text.slice(0, 300)}`);
        const reply = JSON.parse(text) as { count: unknown; matches: unknown[] };
        if (typeof reply.count !== 'number' || !Array.isArray(reply.matches)) throw new Error(`${call.name}: no count or matches in ${text.slice(0, 300)}`);
        timings.push({ name: call.name, ms });
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, caller));
  return timings;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** One load phase over `pool`: a warm-up, then the measured run; prints a Markdown table. Returns the overall p95. */
async function measure(server: ApiServer, token: string, label: string, pool: Participant[]): Promise<number> {
  await drivePolls(server.port, token, pool, WARMUP_SECONDS);
  const cpu = { server: cpuSeconds(server.server.pid!), postgres: cpuSeconds(server.postmaster, true) };
  const started = performance.now();
  const timings = await drivePolls(server.port, token, pool, SECONDS);
  const wall = (performance.now() - started) / 1000;
  const serverCpu = cpuSeconds(server.server.pid!) - cpu.server;
  const postgresCpu = cpuSeconds(server.postmaster, true) - cpu.postgres;
  console.log(`\n### ${label}: ${int(pool.length)} participants (${int(pool[0].points)} to ${int(pool[pool.length - 1].points)} points), ${CLIENTS} callers, ${wall.toFixed(0)} s, load average ${load()}\n`);
  console.log('| call | calls | p50 ms | p95 ms | p99 ms | max ms | calls/s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const names = [...new Set(timings.map((t) => t.name)), 'all calls'];
  let overall = 0;
  for (const name of names) {
    const ms = timings.filter((t) => name === 'all calls' || t.name === name).map((t) => t.ms).sort((a, b) => a - b);
    if (name === 'all calls') overall = percentile(ms, 95);
    const row = [ms.length, percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), ms[ms.length - 1]].map((n, i) => (i === 0 ? int(n) : n.toFixed(1)));
    console.log(`| ${name === 'all calls' ? '**all calls**' : name} | ${row.join(' | ')} | ${(ms.length / wall).toFixed(1)} |`);
  }
  console.log(`\nCPU over ${wall.toFixed(0)} s: dcs ${serverCpu.toFixed(1)} s (${((serverCpu / timings.length) * 1000).toFixed(2)} ms a call), PostgreSQL ${postgresCpu.toFixed(1)} s (${((postgresCpu / timings.length) * 1000).toFixed(2)} ms a call)`);
  return overall;
}

export async function benchApi(): Promise<void> {
  const server = await openStudy();
  try {
    const token = await createToken(server.env, `api-bench-${Date.now()}`);
    const everyone = await participants(server.db);
    const heaviest = everyone.slice(Math.floor(everyone.length * 0.99));
    const median = everyone[Math.floor(everyone.length / 2)];
    console.log(`participants: median ${int(median.points)} points, 99th percentile ${int(heaviest[0].points)}, most ${int(heaviest[heaviest.length - 1].points)}`);
    const plansOk = await explainCalls(server, [median, heaviest[heaviest.length - 1]]);
    const p95 = [await measure(server, token, 'Participants drawn uniformly', everyone), await measure(server, token, 'Participants drawn from the 1% with the most points', heaviest)];
    if (!plansOk) throw new Error('a plan reads data_points with a Seq Scan');
    console.log(`\noverall p95: ${p95.map((n) => `${n.toFixed(1)} ms`).join(' (uniform), ')} (heaviest 1%); target < 50 ms`);
  } finally {
    await server.db.end().catch(() => undefined);
    await stop(server.server);
  }
}
