/**
 * The accept limit: uploads/s of the bare server in bench/accept-limit-server.ts (its own
 * process, the limits' PostgreSQL), under the dcs upload case's load (same uploads, same
 * connections). One warm-up pass (JIT, PostgreSQL caches), then the median of three; the table
 * is emptied before each pass, so every pass starts alike. CPU per point is the server's and
 * PostgreSQL's (all backends) over the three passes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LimitsDatabase } from './limits-db.ts';
import { cpuSeconds, stop, waitForLine } from './processes.ts';
import { drive, median, type Upload } from './uploads.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PASSES = 3;

export interface AcceptLimit {
  uploadsPerSecond: number;
  pointsPerSecond: number;
  passes: number[];
  failures: number;
  cpuMicrosPerPoint: { node: number; postgres: number };
}

export async function measureAcceptLimit(db: LimitsDatabase, uploads: Upload[], totalPoints: number): Promise<AcceptLimit> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'accept-limit-server.ts')], {
    env: { ...process.env, LIMIT_DATABASE_URL: db.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const port = Number((await waitForLine(child, /listening on (\d+)/, 30_000))[1]);
    await db.pool.query('TRUNCATE limit_bundles');
    await drive(port, uploads);
    const seconds: number[] = [];
    let failures = 0;
    let cpu = { node: 0, postgres: 0 };
    for (let i = 0; i < PASSES; i++) {
      await db.pool.query('TRUNCATE limit_bundles');
      const before = { node: cpuSeconds(child.pid!), postgres: cpuSeconds(db.postmaster, true) };
      const run = await drive(port, uploads);
      cpu = { node: cpu.node + cpuSeconds(child.pid!) - before.node, postgres: cpu.postgres + cpuSeconds(db.postmaster, true) - before.postgres };
      seconds.push(run.seconds);
      failures += run.failures;
    }
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM limit_bundles');
    if (rows[0].n !== uploads.length) failures += uploads.length - rows[0].n;
    const passSeconds = median(seconds);
    return {
      uploadsPerSecond: uploads.length / passSeconds,
      pointsPerSecond: totalPoints / passSeconds,
      passes: seconds.map((s) => Math.round(uploads.length / s)),
      failures,
      cpuMicrosPerPoint: { node: (cpu.node / (PASSES * totalPoints)) * 1e6, postgres: (cpu.postgres / (PASSES * totalPoints)) * 1e6 },
    };
  } finally {
    await stop(child);
  }
}
