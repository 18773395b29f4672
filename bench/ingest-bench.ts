/**
 * `npm run bench`: upload throughput, end-to-end processing throughput and server memory, as
 * ratios to this machine's decode limit.
 *
 *  1. Builds realistic uploads: 64-point gzip form bundles (as current extensions send) and
 *     100-point uncompressed JSON bundles (CREATE), with HTML-sized fields of varied words.
 *  2. Decode limit: a bare node:http server (its own process) that only decodes the same bodies
 *     (form -> base64 -> gunzip -> JSON.parse) and answers 201, driven at 32 connections; the
 *     median of three passes after a warm-up pass.
 *  3. webmunk-dcs: `dcs start` on a fresh embedded PostgreSQL, same load; then waits until every
 *     point is stored and checks the count.
 *  Also reports CPU time per point of each server (read from /proc: Linux only), which varies far
 *  less between runs than throughput does.
 * Prints a Markdown table; BENCHMARKS.md records the figures.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { cpuSeconds, rssMb, stop, waitForLine } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const FORM_BUNDLES = Number(process.env.BENCH_FORM_BUNDLES ?? 1500);
const JSON_BUNDLES = Number(process.env.BENCH_JSON_BUNDLES ?? 400);
const DECODE_PASSES = 3;

// ---------------------------------------------------------------- realistic uploads
const WORDS = `amazon product charger cable wireless fast usb type portable battery power bank laptop phone
case cover screen protector glass kitchen coffee maker espresso grinder water bottle stainless steel
running shoes jacket winter outdoor camping tent sleeping bag lamp desk chair ergonomic office monitor
keyboard mouse headphones noise cancelling bluetooth speaker smart watch fitness tracker book novel
paperback hardcover kindle edition audible deal price shipping prime delivery tomorrow rating stars
review customer bought also frequently together sponsored brand best seller choice limited time offer`.split(/\s+/);

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
function words(n: number): string {
  return Array.from({ length: n }, () => pick(WORDS)).join(' ');
}
function html(n: number): string {
  return `<div class="s-result-item" data-asin="B0${randomBytes(4).toString('hex').toUpperCase()}"><h2><a href="/dp/x">${words(n)}</a></h2><span class="a-price">$${(random() * 100).toFixed(2)}</span><p>${words(n)}</p></div>`;
}

let counter = 0;
function point(source: string): Record<string, unknown> {
  counter += 1;
  const date = 1_790_000_000_000 + counter * 137;
  const kinds = ['webmunk-extension-element-show', 'webmunk-extension-matched-rule', 'webmunk-extension-class-added', 'rex-history-visit'];
  const generatorId = pick(kinds);
  const body: Record<string, unknown> = generatorId === 'rex-history-visit'
    ? { url: `https://www.example.com/${words(3).replaceAll(' ', '-')}`, title: words(8), visit_id: String(counter), transition: 'link', categories: [pick(WORDS)] }
    : { 'page-id': randomBytes(16).toString('hex'), 'element-class': 'webmunk-asin-item', rule: ':isAmazonProductItem()', 'url*': `https://www.amazon.com/s?k=${pick(WORDS)}`, 'page-title*': words(6), 'element-content*': html(150 + Math.floor(random() * 300)), 'tab-id': 1843211302 };
  return {
    ...body,
    date,
    generatorId,
    'passive-data-metadata': {
      source,
      generator: `${generatorId}: Study Browser Extension/0.39 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36`,
      'generator-id': generatorId,
      timestamp: date / 1000,
      timezone: 'America/New_York',
    },
  };
}

interface Upload {
  method: 'POST' | 'CREATE';
  headers: Record<string, string>;
  body: Buffer;
  points: number;
}

function buildUploads(): Upload[] {
  const uploads: Upload[] = [];
  const sources = Array.from({ length: 200 }, (_, i) => String(48_000_000 + i));
  for (let i = 0; i < FORM_BUNDLES; i++) {
    const source = sources[i % sources.length];
    const points = Array.from({ length: 64 }, () => point(source));
    const payload = gzipSync(Buffer.from(JSON.stringify(points, null, 2))).toString('base64');
    uploads.push({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-pdk-identifier': source },
      body: Buffer.from(new URLSearchParams({ compression: 'gzip', payload }).toString()),
      points: 64,
    });
  }
  for (let i = 0; i < JSON_BUNDLES; i++) {
    const source = sources[i % sources.length];
    const points = Array.from({ length: 100 }, () => point(source));
    uploads.push({ method: 'CREATE', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(points, null, 2)), points: 100 });
  }
  // Interleave the two kinds, as a server sees them.
  return uploads.sort(() => random() - 0.5);
}

// ---------------------------------------------------------------- load generator
async function drive(port: number, uploads: Upload[]): Promise<{ seconds: number; failures: number; firstAt: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  let failures = 0;
  const firstAt = Date.now();
  const send = (upload: Upload) => new Promise<void>((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/data/add-bundle.json', method: upload.method, agent, headers: { ...upload.headers, 'content-length': upload.body.length } }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 201) failures += 1;
        resolve();
      });
    });
    request.on('error', () => {
      failures += 1;
      resolve();
    });
    request.end(upload.body);
  });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < uploads.length) await send(uploads[next++]);
  }));
  agent.destroy();
  return { seconds: (Date.now() - firstAt) / 1000, failures, firstAt };
}

const DECODE_SERVER = `
const http = require('node:http');
const zlib = require('node:zlib');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let points;
    if ((req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
      const fields = {};
      for (const pair of body.toString('utf8').split('&')) {
        const i = pair.indexOf('=');
        fields[decodeURIComponent(pair.slice(0, i))] = decodeURIComponent(pair.slice(i + 1).replace(/\\+/g, ' '));
      }
      points = JSON.parse(zlib.gunzipSync(Buffer.from(fields.payload, 'base64')).toString('utf8'));
    } else {
      points = JSON.parse(body.toString('utf8'));
    }
    res.writeHead(Array.isArray(points) ? 201 : 400, { 'content-type': 'application/json' });
    res.end('{"added": true}');
  });
}).listen(0, '127.0.0.1', function () { console.log('listening on ' + this.address().port); });
`;

async function measureDecodeLimit(uploads: Upload[], totalPoints: number) {
  const child = spawn(process.execPath, ['-e', DECODE_SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = Number((await waitForLine(child, /listening on (\d+)/, 10_000))[1]);
    // One warm-up pass (JIT), then the median of three: a single 2-second pass varied ±15%.
    await drive(port, uploads);
    const cpuBefore = cpuSeconds(child.pid!);
    const runs = [];
    for (let i = 0; i < DECODE_PASSES; i++) runs.push(await drive(port, uploads));
    const cpuMicrosPerPoint = ((cpuSeconds(child.pid!) - cpuBefore) / (DECODE_PASSES * totalPoints)) * 1e6;
    const run = runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
    return { pointsPerSecond: totalPoints / run.seconds, seconds: run.seconds, failures: runs.reduce((sum, r) => sum + r.failures, 0), passes: runs.map((r) => Math.round(totalPoints / r.seconds)), cpuMicrosPerPoint };
  } finally {
    await stop(child);
  }
}

async function measureServer(uploads: Upload[], totalPoints: number) {
  const dataDir = path.join(ROOT, '.bench', 'data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  // MALLOC_ARENA_MAX as `npm start` and the `dcs` shebang set it (bin/dcs.js says why).
  const env = { MALLOC_ARENA_MAX: '2', ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  delete (env as Record<string, string | undefined>).DATABASE_URL;
  // BENCH_COMMAND=serve measures uploads alone (diagnosis; the worker never runs, so nothing gets processed).
  const command = process.env.BENCH_COMMAND ?? 'start';
  // As `npm start` runs it; BENCH_NODE_ARGS adds flags (e.g. --cpu-prof).
  const nodeArgs = ['--max-semi-space-size=4', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'dcs.js'), command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(child.pid!));
  }, 100);
  try {
    const port = Number((await waitForLine(child, /listening on http:\/\/[^:]+:(\d+)/, 120_000))[1]);
    const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
    const pidFile = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
    const [postmaster, pgPort] = [Number(pidFile[0]), Number(pidFile[3])];
    const db = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'dcs' });
    await db.connect();
    // CPU per point: far steadier than throughput on a shared machine (startup excluded).
    const cpuBefore = { node: cpuSeconds(child.pid!), postgres: cpuSeconds(postmaster, true) };
    const run = await drive(port, uploads);
    for (;;) {
      if (command === 'serve') break;
      const { rows } = await db.query(`SELECT count(*)::int AS pending FROM bundles WHERE status = 'pending'`);
      if (rows[0].pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const processedSeconds = (Date.now() - run.firstAt) / 1000;
    const cpuMicrosPerPoint = {
      node: ((cpuSeconds(child.pid!) - cpuBefore.node) / totalPoints) * 1e6,
      postgres: ((cpuSeconds(postmaster, true) - cpuBefore.postgres) / totalPoints) * 1e6,
    };
    const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM data_points) AS points,
      (SELECT count(*)::int FROM bundles WHERE status = 'errored') AS errored`);
    await db.end();
    return {
      acceptedPointsPerSecond: totalPoints / run.seconds,
      uploadSeconds: run.seconds,
      processedPointsPerSecond: totalPoints / processedSeconds,
      processedSeconds,
      failures: run.failures,
      storedPoints: rows[0].points,
      erroredBundles: rows[0].errored,
      peakRssMb: peakRss,
      cpuMicrosPerPoint,
    };
  } finally {
    clearInterval(sampler);
    await stop(child);
  }
}

export async function benchIngest(): Promise<void> {
  const started = Date.now();
  const uploads = buildUploads();
  const totalPoints = uploads.reduce((sum, u) => sum + u.points, 0);
  const totalMb = uploads.reduce((sum, u) => sum + u.body.length, 0) / 1024 / 1024;
  console.log(`${uploads.length} uploads, ${totalPoints} points, ${totalMb.toFixed(1)} MB on the wire, ${CONNECTIONS} connections (built in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const limit = await measureDecodeLimit(uploads, totalPoints);
  console.log(`decode limit: ${Math.round(limit.pointsPerSecond)} points/s (${limit.seconds.toFixed(2)} s; median of ${limit.passes.join(', ')} after a warm-up pass)`);
  const server = await measureServer(uploads, totalPoints);
  console.log(`webmunk-dcs: accepted ${Math.round(server.acceptedPointsPerSecond)} points/s, processed ${Math.round(server.processedPointsPerSecond)} points/s end to end, peak RSS ${server.peakRssMb.toFixed(0)} MB`);

  const ok = server.storedPoints === totalPoints && server.failures === 0 && server.erroredBundles === 0;
  const acceptedRatio = server.acceptedPointsPerSecond / limit.pointsPerSecond;
  const processedRatio = server.processedPointsPerSecond / limit.pointsPerSecond;
  const table = [
    '| measure | value | ratio to decode limit | target |',
    '| --- | --- | --- | --- |',
    `| decode limit (bare node:http: form → base64 → gunzip → JSON.parse) | ${Math.round(limit.pointsPerSecond)} points/s | 1.00 | |`,
    `| uploads accepted (201) | ${Math.round(server.acceptedPointsPerSecond)} points/s | ${acceptedRatio.toFixed(2)} | ≥ 0.70 |`,
    `| all points processed, first upload → last point stored | ${Math.round(server.processedPointsPerSecond)} points/s | ${processedRatio.toFixed(2)} | ≥ 0.50 |`,
    `| server peak RSS (Node process) | ${server.peakRssMb.toFixed(0)} MB | | ≤ 300 MB |`,
    '',
    '| CPU per point (all threads / all backends) | µs |',
    '| --- | --- |',
    `| decode-limit server | ${limit.cpuMicrosPerPoint.toFixed(1)} |`,
    `| webmunk-dcs, Node process | ${server.cpuMicrosPerPoint.node.toFixed(1)} |`,
    `| webmunk-dcs, PostgreSQL | ${server.cpuMicrosPerPoint.postgres.toFixed(1)} |`,
  ].join('\n');
  console.log(`\n${table}\n`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  console.log(`points stored ${server.storedPoints}/${totalPoints}, upload failures ${server.failures}, errored bundles ${server.erroredBundles}: ${ok ? 'OK' : 'MISMATCH'}`);
  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.bench', 'last-run.json'), JSON.stringify({ date: new Date().toISOString(), totalPoints, connections: CONNECTIONS, limit, server, acceptedRatio, processedRatio }, null, 2));
  if (!ok) process.exitCode = 1;
}

