/**
 * `npm run bench -- hostile`: the uploads built to exhaust memory (issue 17), one case after
 * another against one `dcs start` with the default limits, and the bundles of that kind an earlier
 * version stored, left for processing. For each case: the replies, how long the server took, the
 * peak RSS of the whole process (web, processing thread, thread pool) and the slowest answer to
 * HEAD while it ran (is the server still serving?). Last, an ordinary upload must be processed.
 * BENCH_HOSTILE_ROOT runs another checkout's server (e.g. the code before the fix); a server past
 * 3 GB is killed. BENCH_HOSTILE_CASES=1,2 runs only those cases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import { ROOT } from '../test/helpers/dcs.ts';
import { deepNestingBomb, emptyObjectsBomb, gzipRepeated, hugeStringBomb } from '../test/helpers/hostile-bodies.ts';
import { rssMb, samplePeakRss, startBenchServer, stop } from './processes.ts';

const MB = 1024 * 1024;

interface Case {
  name: string;
  /** the requests, sent at once */
  requests: () => RequestInit[];
}

const putGzip = (body: Buffer<ArrayBuffer>): RequestInit => ({ method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
const form = (body: Buffer): RequestInit => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ compression: 'gzip', payload: body.toString('base64') }).toString(),
});
const json = (body: Buffer<ArrayBuffer>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);

const CASES: Case[] = [
  { name: '470 MB of `[{},…]` from a 0.4 MB gzip body, PUT', requests: () => [putGzip(emptyObjectsBomb(470))] },
  { name: 'the same as a gzip form (POST)', requests: () => [form(emptyObjectsBomb(470))] },
  { name: 'one point nested 50 million arrays deep', requests: () => [putGzip(deepNestingBomb(50_000_000))] },
  { name: 'one 100 MB string', requests: () => [putGzip(hugeStringBomb(100))] },
  { name: '500 MB of 1 MB strings (within the point limits)', requests: () => [putGzip(gzipRepeated('[', `"${'x'.repeat(MB)}",`, 500, '""]'))] },
  { name: '32 of those at once', requests: () => times(32, () => putGzip(gzipRepeated('[', `"${'x'.repeat(MB)}",`, 500, '""]'))) },
  { name: '8 bodies of 30 MB of `{}` at once', requests: () => times(8, () => json(Buffer.from(`[${'{},'.repeat(10 * MB - 1)}{}]`))) },
  { name: '40 bodies of 32 MB of random bytes at once', requests: () => times(40, () => json(randomBytes(32 * MB - 1024))) },
  { name: '6 bodies of 90 MB at once (over MAX_BODY_BYTES)', requests: () => times(6, () => json(Buffer.alloc(90 * MB, 0x20))) },
];

interface Measured {
  statuses: string;
  seconds: number;
  peakRssMb: number;
  slowestHeadMs: number;
}

/**
 * Asks HEAD of the upload URL every 100 ms from a process of its own (the bench's own process is
 * busy sending the bodies, which would slow its probes); stop() gives the slowest answer, in ms.
 */
function probeHead(baseUrl: string): { stop(): Promise<number> } {
  const script = `let slowest = 0, running = true;
    process.stdin.on('end', () => { running = false; });
    process.stdin.resume();
    (async () => {
      while (running) {
        const started = performance.now();
        await fetch(${JSON.stringify(`${baseUrl}/data/add-bundle.json`)}, { method: 'HEAD', signal: AbortSignal.timeout(120000) }).catch(() => undefined);
        slowest = Math.max(slowest, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      console.log(slowest);
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  return {
    async stop() {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
      return Number(output.trim());
    },
  };
}

/** A server past this is stopped (kill -9): the code before the fix grows to 5.5 GB and more. */
const RSS_CAP_MB = 3000;

/** Runs `work` while sampling the server's RSS and probing HEAD. */
async function measure(pid: number, baseUrl: string, work: () => Promise<string>): Promise<Measured> {
  const rss = samplePeakRss(pid, 50);
  const watchdog = setInterval(() => {
    if (rssMb(pid) > RSS_CAP_MB) process.kill(pid, 'SIGKILL');
  }, 50);
  const probe = probeHead(baseUrl);
  const started = performance.now();
  const statuses = await work();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(watchdog);
  return { statuses, seconds, peakRssMb: rss.stop(), slowestHeadMs: await probe.stop() };
}

async function send(baseUrl: string, init: RequestInit): Promise<string> {
  try {
    const reply = await fetch(`${baseUrl}/data/add-bundle.json`, { ...init, signal: AbortSignal.timeout(300_000) });
    await reply.arrayBuffer();
    return String(reply.status);
  } catch {
    return 'closed';
  }
}

const summary = (statuses: string[]) => Object.entries(statuses.reduce<Record<string, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {}))
  .map(([status, n]) => (n > 1 ? `${n}× ${status}` : status)).join(', ');

const ORDINARY = json(Buffer.from(JSON.stringify([{ 'passive-data-metadata': { source: 'after', 'generator-id': 'x', generator: 'bench', timestamp: 1_765_000_000 } }])));

/** What an earlier version stored unchecked: six 90 MB bundles of `{}` and a 14 MB bundle of 90,000 points; processed. */
async function storedEarlier(db: pg.Client): Promise<string> {
  const insert = (body: Buffer) => db.query(`INSERT INTO bundles (endpoint, transport, compression, body) VALUES ('bundle', 'put', 'gzip', $1)`, [body]);
  for (let i = 0; i < 6; i++) await insert(emptyObjectsBomb(90));
  await insert(gzipSync(JSON.stringify(times(90_000, () => 0).map((_, i) => ({
    'passive-data-metadata': { source: `stored-${i % 7}`, 'generator-id': 'webmunk-extension-scroll-position', generator: 'bench', timestamp: 1_765_000_000 + i / 100 },
    offset: { top: i, left: -i },
  })))));
  await db.query(`NOTIFY dcs_bundles`);
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
    if (rows[0].n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM bundles GROUP BY status ORDER BY status`);
  return rows.map((r) => `${r.n} ${r.status}`).join(', ');
}

/** An ordinary upload (from the same address): answered 201 and processed within a minute? */
async function ordinaryUpload(baseUrl: string, db: pg.Client): Promise<string> {
  const status = await send(baseUrl, ORDINARY);
  if (status !== '201') return `answered ${status}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await db.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'after'`)).rows[0].n === 1) return 'processed';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return 'answered 201, NOT processed';
}

/** Each case on a fresh server, so that its peak RSS is its own. */
export async function benchHostile(): Promise<void> {
  const root = process.env.BENCH_HOSTILE_ROOT ?? ROOT;
  const cases: { name: string; run: (baseUrl: string, db: pg.Client) => Promise<string> }[] = [
    ...CASES.map((c) => ({ name: c.name, run: async (baseUrl: string) => {
      const requests = c.requests();
      return summary(await Promise.all(requests.map((init) => send(baseUrl, init))));
    } })),
    { name: 'stored earlier: six 90 MB bundles of `{}`, and 90,000 points in one 14 MB bundle; then processed', run: (_baseUrl, db) => storedEarlier(db) },
  ];
  // BENCH_HOSTILE_CASES=1,3: only those cases (numbered from 1, in the table's order)
  const only = process.env.BENCH_HOSTILE_CASES?.split(',').map(Number);
  const chosen = only ? cases.filter((_, i) => only.includes(i + 1)) : cases;
  console.log(`dcs start at ${root}, load ${os.loadavg()[0].toFixed(2)}\n`);
  console.log('| case | replies | seconds | idle RSS before (MB) | peak RSS (MB) | slowest HEAD meanwhile (ms) | an ordinary upload afterwards |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of chosen) {
    const { server, port, db } = await startBenchServer(root, path.join(ROOT, '.bench', 'hostile-data'));
    const pid = server.pid!;
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      const idle = rssMb(pid);
      const m = await measure(pid, baseUrl, () => c.run(baseUrl, db));
      const alive = server.exitCode === null && server.signalCode === null;
      const after = alive ? await ordinaryUpload(baseUrl, db) : `the server died (${server.exitCode ?? server.signalCode})`;
      console.log(`| ${c.name} | ${m.statuses} | ${m.seconds.toFixed(1)} | ${idle.toFixed(0)} | ${m.peakRssMb.toFixed(0)} | ${m.slowestHeadMs.toFixed(0)} | ${after} |`);
    } finally {
      await db.end().catch(() => undefined);
      await stop(server);
      stopOrphanedPostgres(path.join(ROOT, '.bench', 'hostile-data'));
    }
  }
}

/** A server killed -9 leaves its embedded PostgreSQL running: stop it (SIGINT: fast shutdown). */
function stopOrphanedPostgres(dataDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGINT');
  } catch {
    // stopped with its server, as it should be
  }
}
