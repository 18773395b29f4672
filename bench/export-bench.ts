/**
 * `npm run bench -- export`: export throughput, CPU and memory on data built as a study builds it.
 *
 *  1. `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off); BENCH_EXPORT_POINTS
 *     (default 1,000,000) element-show points of BENCH_EXPORT_SOURCES (500) sources uploaded
 *     through /data/add-bundle.json as 64-point gzip form bundles, each point its own ~1.5 KB
 *     search-result tile (bench/element-show-uploads.ts), and BENCH_MIXED_POINTS (120,000) points
 *     of the nightly types made from the real samples; processed by the server, then VACUUM
 *     ANALYZE and CHECKPOINT (what autovacuum and the checkpointer do for a study), and the
 *     statistics job once (the user agents each source was seen with, which rules resolve).
 *  2. `dcs export --types webmunk-extension-element-show` of all of them, BENCH_EXPORT_RUNS (1)
 *     times: wall time, CPU of the command (user + system, from /usr/bin/time) and of PostgreSQL
 *     (every backend, from /proc), peak RSS, the archive's bytes per point. With
 *     BENCH_EXPORT_RULES=N (1-20), each run is two exports, alternating: without exclusion rules,
 *     then with N of bench/export-rules.ts's rules enabled (issue 21 §5), and the ratio of their
 *     speeds (CPU and wall) is printed; the rules stay in the database, disabled, afterwards.
 *  3. `dcs export nightly` of the day all of them were received (jobs of 10 sources, 12 types,
 *     element-show again in the combined visibility export).
 * BENCH_EXPORT_REUSE=1 keeps the database of the previous run (same counts) and only exports;
 * BENCH_NODE_ARGS passes flags to the exporting process (e.g. --cpu-prof). Prints Markdown;
 * BENCHMARKS.md records the figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { uploadElementShowPoints } from './element-show-uploads.ts';
import { addBenchRules, setBenchRules } from './export-rules.ts';
import { cpuSeconds, startBenchServer, stop, timedDcs, type BenchServer } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHOW_POINTS = Number(process.env.BENCH_EXPORT_POINTS ?? 1_000_000);
const SOURCES = Number(process.env.BENCH_EXPORT_SOURCES ?? 500);
const MIXED_POINTS = Number(process.env.BENCH_MIXED_POINTS ?? 120_000);
const RUNS = Number(process.env.BENCH_EXPORT_RUNS ?? 1);
const REUSE = process.env.BENCH_EXPORT_REUSE === '1';
const RULES = Number(process.env.BENCH_EXPORT_RULES ?? 0);
const SAMPLES = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'sample-points.json'), 'utf8')) as Record<string, unknown>[];
// a sample of each nightly type with points (webmunk-clients.md §8)
const MIXED = [1, 4, 0, 2, 3, 6, 5, 7, 10, 8];

type Server = BenchServer;

/** `dcs start` on `dataDir`; one address sends what 500 participants would: no per-address upload limits. */
function startServer(dataDir: string, keep: boolean): Promise<Server> {
  return startBenchServer(ROOT, dataDir, { PUBLIC_URL: 'https://bench.example.org', UPLOAD_RATE_PER_MINUTE: '0', UPLOAD_BYTES_PER_MINUTE: '0' }, { keep, nodeArgs: ['--max-semi-space-size=4'], startTimeoutMs: 180_000 });
}

async function waitForProcessing(db: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS pending FROM bundles WHERE status = 'pending'`);
    if (rows[0].pending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The nightly types' real samples, each point its own source, time, page and URL. */
async function uploadMixed(port: number, points: number): Promise<void> {
  const now = Date.now();
  for (let sent = 0; sent < points;) {
    const batch = [];
    const source = `M${String((sent / 64) % 40).padStart(3, '0')}`;
    for (let i = 0; i < 64 && sent < points; i++, sent++) {
      const point = structuredClone(SAMPLES[MIXED[sent % MIXED.length]]);
      const meta = point['passive-data-metadata'] as Record<string, unknown>;
      meta.source = source;
      meta.timestamp = (now - sent * 997) / 1000;
      point.date = now - sent * 997;
      if (typeof point['url*'] === 'string') point['url*'] += `&qid=${sent}`;
      if ('page-id' in point) point['page-id'] = `${sent}-${point['page-id']}`;
      batch.push(point);
    }
    const body = new URLSearchParams({ compression: 'gzip', payload: gzipSync(JSON.stringify(batch)).toString('base64') }).toString();
    const response = await fetch(`http://127.0.0.1:${port}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
  }
}

const timed = (server: Server, args: string[]) => timedDcs(ROOT, server.env, server.postmaster, args);

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function benchExport(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'export-data');
  const marker = path.join(dataDir, 'bench-export.json');
  // `data`: the version of what is uploaded (2: a few sources with other user agents, for the rules)
  const wanted = JSON.stringify({ SHOW_POINTS, SOURCES, MIXED_POINTS, data: 2 });
  const reuse = REUSE && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted;
  const server = await startServer(dataDir, reuse);
  try {
    if (!reuse) {
      fs.rmSync(marker, { force: true });
      const cpuBefore = { node: cpuSeconds(server.server.pid!), postgres: cpuSeconds(server.postmaster, true) };
      const started = performance.now();
      const upload = await uploadElementShowPoints(server.port, SHOW_POINTS, SOURCES, 16, (sent) => process.stdout.write(`\r  uploaded ${int(sent)} / ${int(SHOW_POINTS)} points`));
      if (upload.failures > 0) throw new Error(`${upload.failures} uploads failed`);
      await uploadMixed(server.port, MIXED_POINTS);
      process.stdout.write('\n');
      await waitForProcessing(server.db);
      const built = (performance.now() - started) / 1000;
      console.log(`uploaded ${int(upload.uploads)} bundles (${int(upload.points)} element-show points, ${(upload.jsonBytes / upload.points).toFixed(0)} bytes of JSON each) in ${upload.seconds.toFixed(0)} s; all processed after ${built.toFixed(0)} s (server ${(cpuSeconds(server.server.pid!) - cpuBefore.node).toFixed(0)} s CPU, PostgreSQL ${(cpuSeconds(server.postmaster, true) - cpuBefore.postgres).toFixed(0)} s)`);
      await server.db.query('VACUUM ANALYZE');
      await server.db.query('CHECKPOINT');
      await timed(server, ['run-job', 'source-statistics']);
      fs.writeFileSync(marker, wanted);
    }
    const { rows: counted } = await server.db.query(`SELECT count(*)::int AS points, sum(pg_column_size(properties))::int8 AS bytes FROM data_points WHERE generator_id = 'webmunk-extension-element-show'`);
    const showPoints = Number(counted[0].points);
    console.log(`${int(showPoints)} element-show points in the database, ${(Number(counted[0].bytes) / showPoints).toFixed(0)} bytes of jsonb each`);

    const ruleIds = RULES > 0 ? await addBenchRules(server.db, RULES) : [];
    const lines = [
      '| case | wall (whole command) | points/s | CPU: dcs + PostgreSQL | CPU µs/point | peak RSS | archive | load before → after |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ];
    const totals = { without: { seconds: 0, cpu: 0 }, with: { seconds: 0, cpu: 0 } };
    let removed = 0;
    for (let run = 1; run <= RUNS; run++) {
      for (const rules of ruleIds.length > 0 ? [false, true] : [false]) {
        if (ruleIds.length > 0) await setBenchRules(server.db, ruleIds, rules);
        const out = path.join(dataDir, 'show.zip');
        const before = load();
        const show = await timed(server, ['export', '--types', 'webmunk-extension-element-show', '--out', out]);
        const bytes = fs.statSync(out).size;
        const jobSeconds = Number(/points in ([\d.]+) s/.exec(show.stdout)?.[1]);
        const written = Number(/: (\d+) points in/.exec(show.stdout)?.[1]);
        const cpu = show.cpuSeconds + show.postgresCpuSeconds;
        // CPU per point and points/s count every point the export read, written or left out
        const label = ruleIds.length === 0 ? '' : rules ? `, ${ruleIds.length} rules: ${int(written)} written, ${int(showPoints - written)} left out` : ', no rules';
        lines.push(`| element-show TSV, ${int(showPoints)} points, ${SOURCES} sources${label} (run ${run}) | ${show.seconds.toFixed(1)} s (job ${jobSeconds.toFixed(1)} s) | ${int(showPoints / show.seconds)} | ${show.cpuSeconds.toFixed(1)} + ${show.postgresCpuSeconds.toFixed(1)} s | ${((show.cpuSeconds / showPoints) * 1e6).toFixed(1)} + ${((show.postgresCpuSeconds / showPoints) * 1e6).toFixed(1)} = ${((cpu / showPoints) * 1e6).toFixed(1)} | ${show.peakRssMb.toFixed(0)} MB | ${(bytes / 1e6).toFixed(0)} MB, ${(bytes / showPoints).toFixed(0)} B/point | ${before} → ${load()} |`);
        console.log(lines.at(-1));
        const total = rules ? totals.with : totals.without;
        total.seconds += show.seconds;
        total.cpu += cpu;
        if (rules) removed = showPoints - written;
      }
    }
    if (ruleIds.length > 0) {
      await setBenchRules(server.db, ruleIds, false);
      // speed with rules / speed without = time without / time with (the same points read)
      console.log(`\n${ruleIds.length} rules left out ${int(removed)} of ${int(showPoints)} element-show points (${((removed / showPoints) * 100).toFixed(1)}%); speed with rules / without, ${RUNS} runs each: CPU ${(totals.without.cpu / totals.with.cpu).toFixed(2)}, wall ${(totals.without.seconds / totals.with.seconds).toFixed(2)}`);
    }

    if (MIXED_POINTS > 0) {
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const today = new Date().toISOString().slice(0, 10);
      const before = load();
      const nightly = await timed(server, ['export', 'nightly', '--date', tomorrow]);
      const { rows } = await server.db.query(`SELECT sum(points_written)::int8 AS points, sum(file_bytes)::int8 AS bytes, count(*)::int AS jobs FROM report_jobs WHERE batch = $1`, [`nightly:${today}`]);
      const points = Number(rows[0].points);
      const cpu = nightly.cpuSeconds + nightly.postgresCpuSeconds;
      lines.push(`| nightly (${today}), 12 types, ${rows[0].jobs} jobs, ${int(points)} points | ${nightly.seconds.toFixed(1)} s | ${int(points / nightly.seconds)} | ${nightly.cpuSeconds.toFixed(1)} + ${nightly.postgresCpuSeconds.toFixed(1)} s | ${((cpu / points) * 1e6).toFixed(1)} | ${nightly.peakRssMb.toFixed(0)} MB | ${(Number(rows[0].bytes) / 1e6).toFixed(0)} MB | ${before} → ${load()} |`);
    }
    await server.db.end();
    console.log(`\n${lines.join('\n')}\n`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  } finally {
    await stop(server.server);
  }
}
