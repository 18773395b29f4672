/**
 * The storage limit: points/s of a bare pipeline (bench/storage-limit-run.ts, in its own process)
 * that decodes the same stored bundles and COPYs their points into `limit_points`, which has
 * data_points' shape (bench/limits-db.ts), on two connections. One warm-up pass, then the median
 * of three. Also the per-point CPU of its stages: decoding alone, the rest of the pipeline's
 * process, and PostgreSQL's (all backends, within the passes).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LimitsDatabase } from './limits-db.ts';
import { cpuSeconds } from './processes.ts';
import { median, type Upload } from './uploads.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PASSES = 3;

export interface StorageLimit {
  pointsPerSecond: number;
  passes: number[];
  storedPoints: number;
  cpuMicrosPerPoint: { decode: number; node: number; postgres: number };
}

export async function measureStorageLimit(db: LimitsDatabase, uploads: Upload[], totalPoints: number, workDir: string, table = 'limit_points'): Promise<StorageLimit> {
  const bodiesFile = path.join(workDir, 'limit-bodies.bin');
  const parts: Buffer[] = [];
  for (const { stored } of uploads) {
    if (stored.compression !== 'gzip') throw new Error('the storage limit reads gzip bundles only');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(stored.body.length);
    parts.push(length, stored.body);
  }
  fs.writeFileSync(bodiesFile, Buffer.concat(parts));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'storage-limit-run.ts')], {
    env: { ...process.env, BENCH_DATABASE_URL: db.url, BENCH_BODIES: bodiesFile, BENCH_PASSES: String(PASSES), BENCH_TABLE: table },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let decode = 0;
  let nodeCpu = 0;
  let postgres = 0;
  let passStart = 0;
  const seconds: number[] = [];
  let buffered = '';
  child.stderr.on('data', (d: Buffer) => (output += d));
  child.stdout.on('data', (d: Buffer) => {
    output += d;
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const [word, value] = buffered.slice(0, nl).split(' ');
      buffered = buffered.slice(nl + 1);
      if (word === 'decode') decode = Number(value);
      if (word === 'start') passStart = cpuSeconds(db.postmaster, true);
      if (word === 'end') {
        seconds.push(Number(value));
        if (seconds.length > 1) postgres += cpuSeconds(db.postmaster, true) - passStart;
      }
      if (word === 'cpu') nodeCpu = Number(value);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  fs.rmSync(bodiesFile, { force: true });
  if (code !== 0) throw new Error(`storage limit failed (${code}):\n${output}`);
  const measured = seconds.slice(1);
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return {
    pointsPerSecond: totalPoints / median(measured),
    passes: measured.map((s) => Math.round(totalPoints / s)),
    storedPoints: rows[0].n,
    cpuMicrosPerPoint: {
      decode,
      node: (nodeCpu / (PASSES * totalPoints)) * 1e6,
      postgres: (postgres / (PASSES * totalPoints)) * 1e6,
    },
  };
}
