/**
 * `npm run bench` (the default case): uploads accepted and points processed by webmunk-dcs, each
 * beside its limit measured in the same run on the same machine and PostgreSQL (issue 9):
 *
 *  1. Builds the load (bench/uploads.ts): 64-point gzip form bundles with HTML-sized fields.
 *  2. Accept limit (bench/accept-limit.ts): a bare server that validates each upload and inserts
 *     it as one row with synchronous commit: uploads/s.
 *  3. Storage limit (bench/storage-limit.ts): a bare pipeline that decodes the same bundles and
 *     COPYs their points into a table shaped like data_points on two connections: points/s.
 *  4. webmunk-dcs (bench/dcs-runs.ts): `dcs start` under the same load: uploads accepted/s, all
 *     points processed end to end, peak RSS; then the stages apart for their CPU per point.
 * CPU times come from /proc (Linux only); they vary far less between runs than throughput does.
 * Prints Markdown tables; BENCHMARKS.md records the figures. BENCH_STAGES=0 skips the stage runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePayload, parseJson } from '../src/payload/bundle-codec.ts';
import { measureAcceptLimit } from './accept-limit.ts';
import { measureServer, measureStages } from './dcs-runs.ts';
import { openLimitsDatabase } from './limits-db.ts';
import { measureStorageLimit } from './storage-limit.ts';
import { buildUploads, CONNECTIONS, type Upload } from './uploads.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAGES = process.env.BENCH_STAGES !== '0';
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/** CPU per point of processing's own decoding of stored bundles (payload codec + JSON.parse). */
function dcsDecodeMicrosPerPoint(uploads: Upload[], totalPoints: number): number {
  const before = process.cpuUsage();
  for (const { stored } of uploads) parseJson(decodePayload({ ...stored, encrypted: false, nonce: null }, undefined, MAX_INFLATED_BYTES)!);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / totalPoints;
}

const f = (n: number) => n.toFixed(1);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

export async function benchIngest(): Promise<void> {
  const started = Date.now();
  const uploads = buildUploads();
  const totalPoints = uploads.reduce((sum, u) => sum + u.points, 0);
  const totalMb = uploads.reduce((sum, u) => sum + u.body.length, 0) / 1024 / 1024;
  console.log(`${uploads.length} uploads, ${totalPoints} points, ${totalMb.toFixed(1)} MB on the wire, ${CONNECTIONS} connections (built in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`load average before: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);

  const limitsDb = await openLimitsDatabase(path.join(ROOT, '.bench', 'limits'));
  let accept;
  let storage;
  try {
    accept = await measureAcceptLimit(limitsDb, uploads, totalPoints);
    console.log(`accept limit: ${int(accept.uploadsPerSecond)} uploads/s (${int(accept.pointsPerSecond)} points/s; passes ${accept.passes.join(', ')} uploads/s after a warm-up pass)`);
    storage = await measureStorageLimit(limitsDb, uploads, totalPoints, path.join(ROOT, '.bench'));
    console.log(`storage limit: ${int(storage.pointsPerSecond)} points/s (passes ${storage.passes.join(', ')} after a warm-up pass)`);
  } finally {
    await limitsDb.close();
  }
  const server = await measureServer(ROOT, uploads, totalPoints);
  console.log(`webmunk-dcs: accepted ${int(server.acceptedUploadsPerSecond)} uploads/s, processed ${int(server.processedPointsPerSecond)} points/s end to end, peak RSS ${server.peakRssMb.toFixed(0)} MB`);
  const stages = STAGES ? await measureStages(ROOT, uploads, totalPoints) : undefined;
  const decode = dcsDecodeMicrosPerPoint(uploads, totalPoints);

  const acceptedRatio = server.acceptedUploadsPerSecond / accept.uploadsPerSecond;
  const processedRatio = server.processedPointsPerSecond / storage.pointsPerSecond;
  const ok = server.storedPoints === totalPoints && server.failures === 0 && server.erroredBundles === 0
    && accept.failures === 0 && storage.storedPoints === totalPoints
    && (!stages || (stages.processing.storedPoints === totalPoints && stages.storeRaw.failures === 0));
  const lines = [
    '| measure | webmunk-dcs | limit (same run) | ratio | target |',
    '| --- | --- | --- | --- | --- |',
    `| uploads accepted (201) | ${int(server.acceptedUploadsPerSecond)} uploads/s | accept limit ${int(accept.uploadsPerSecond)} uploads/s | ${acceptedRatio.toFixed(2)} | ≥ 0.70 |`,
    `| all points processed, first upload → last point stored | ${int(server.processedPointsPerSecond)} points/s | storage limit ${int(storage.pointsPerSecond)} points/s | ${processedRatio.toFixed(2)} | ≥ 0.60 |`,
    `| server peak RSS (Node process) | ${server.peakRssMb.toFixed(0)} MB | | | ≤ 300 MB |`,
    '',
    '| CPU per point, µs | webmunk-dcs | limit |',
    '| --- | --- | --- |',
    `| whole run (\`dcs start\`: Node process + PostgreSQL) | ${f(server.cpuMicrosPerPoint.node)} + ${f(server.cpuMicrosPerPoint.postgres)} = ${f(server.cpuMicrosPerPoint.node + server.cpuMicrosPerPoint.postgres)} | |`,
    `| decode (a stored bundle: gunzip, JSON.parse; Node) | ${f(decode)} | ${f(storage.cpuMicrosPerPoint.decode)} (storage limit) |`,
  ];
  if (stages) {
    const raw = stages.storeRaw;
    const proc = stages.processing;
    lines.push(
      `| store raw (upload: HTTP, validation, INSERT of the bundle; Node + PostgreSQL) | ${f(raw.node)} + ${f(raw.postgres)} = ${f(raw.node + raw.postgres)} | ${f(accept.cpuMicrosPerPoint.node)} + ${f(accept.cpuMicrosPerPoint.postgres)} = ${f(accept.cpuMicrosPerPoint.node + accept.cpuMicrosPerPoint.postgres)} (accept limit) |`,
      `| expand (processing in Node, decode excluded) | ${f(proc.node - decode)} | ${f(storage.cpuMicrosPerPoint.node - storage.cpuMicrosPerPoint.decode)} (storage limit: rows, COPY) |`,
      `| insert (PostgreSQL, during processing) | ${f(proc.postgres)} | ${f(storage.cpuMicrosPerPoint.postgres)} (storage limit) |`,
      `| processing alone (Node + PostgreSQL; one loop, own process) | ${f(proc.node)} + ${f(proc.postgres)} = ${f(proc.node + proc.postgres)} (${int(proc.pointsPerSecond)} points/s) | ${f(storage.cpuMicrosPerPoint.node)} + ${f(storage.cpuMicrosPerPoint.postgres)} = ${f(storage.cpuMicrosPerPoint.node + storage.cpuMicrosPerPoint.postgres)} |`,
      `| uploads alone (\`dcs serve\`) | ${int(raw.uploadsPerSecond)} uploads/s, peak RSS ${raw.peakRssMb.toFixed(0)} MB | ${int(accept.uploadsPerSecond)} uploads/s |`,
    );
  }
  console.log(`\n${lines.join('\n')}\n`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  console.log(`load average after: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log(`points stored ${server.storedPoints}/${totalPoints}, upload failures ${server.failures}, errored bundles ${server.erroredBundles}, limits ${accept.failures} failures / ${storage.storedPoints} points: ${ok ? 'OK' : 'MISMATCH'}`);
  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.bench', 'last-run.json'), JSON.stringify({ date: new Date().toISOString(), totalPoints, connections: CONNECTIONS, accept, storage, server, stages, decode, acceptedRatio, processedRatio }, null, 2));
  if (!ok) process.exitCode = 1;
}
