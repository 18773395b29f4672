/**
 * T1 of issue 22 (scale-out.md §4.1): the cluster a large study runs, on one machine. Two
 * `dcs serve` and three `dcs worker` processes share one PostgreSQL while clients upload ~3,000
 * bundles through both web processes, every point twice in two encodings; poison bundles sit in
 * the queue; one worker is killed (-9) in the middle of its work and replaced; the database is
 * restarted (and unreachable) while both web processes spool. Afterwards: every acknowledged
 * upload is one bundle, every good bundle is processed once, every point is stored once, the
 * counters agree with the rows, and no scheduled job ran twice for one tick.
 * Once-only (child processes and a PostgreSQL of its own, minutes long): not repeated on other
 * Node and PostgreSQL versions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { createLogger } from '../../src/log.ts';
import { useChildServers, type ChildServer } from '../helpers/child-server.ts';
import { runDcs } from '../helpers/dcs.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { testUpload, TRANSPORTS } from '../helpers/uploads.ts';

const MARKERS = 1_500; // each uploaded twice: 3,000 bundles
const POISON = 6;
const MAX_ATTEMPTS = 3;

const children = useChildServers();
let embedded: EmbeddedDatabase;
let direct: pg.Pool;
let proxy: TcpProxy;
let proxiedUrl: string;
let clusterDir: string;

beforeAll(async () => {
  clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-t1-'));
  embedded = await openEmbeddedPostgres(clusterDir, createLogger('silent'));
  direct = new pg.Pool({ connectionString: embedded.url, max: 2 });
  direct.on('error', () => undefined); // the restart below drops idle connections
  const port = Number(new URL(embedded.url).port);
  proxy = new TcpProxy({ host: '127.0.0.1', port });
  await proxy.start();
  const url = new URL(embedded.url);
  url.port = String(proxy.port);
  url.searchParams.delete('host'); // through the proxy (TCP), not the Unix socket
  proxiedUrl = url.toString();
}, 120_000);

afterAll(async () => {
  await direct?.end();
  await proxy?.stop();
  await embedded?.release();
  if (clusterDir) fs.rmSync(clusterDir, { recursive: true, force: true });
}, 60_000);

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const spooled = (dataDir: string) => {
  const dir = path.join(dataDir, 'spool');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.upload')).length : 0;
};

async function count(sql: string): Promise<number> {
  return (await direct.query(sql)).rows[0].n;
}

/**
 * Every marker uploaded twice, through different transports and different web processes, by six
 * clients. Returns the uploads answered 201 (a reply lost to a restart is retried by the client).
 */
function uploadAll(webs: ChildServer[]) {
  const queue = Array.from({ length: MARKERS * 2 }, (_, i) => i);
  const acknowledged: { marker: number; copy: number }[] = [];
  const statuses = new Map<number, number>();
  const client = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const marker = next >> 1;
      const copy = next & 1;
      const transport = TRANSPORTS[(marker + copy * 3) % TRANSPORTS.length];
      const upload = testUpload(marker, transport, `participant-${marker % 40}`);
      for (;;) {
        try {
          const reply = await fetch(`${webs[(marker + copy) % webs.length].baseUrl}/data/${upload.path}`, { ...upload.init, signal: AbortSignal.timeout(30_000) });
          await reply.arrayBuffer();
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (reply.status === 201) acknowledged.push({ marker, copy });
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  };
  const done = Promise.all(Array.from({ length: 6 }, client));
  return { acknowledged, statuses, done, remaining: () => queue.length };
}

describe('two web and three worker processes on one PostgreSQL', () => {
  it('store every upload once and process every bundle once through a worker kill -9 and a database restart', async () => {
    const common = { DATABASE_URL: proxiedUrl, PROCESS_MAX_ATTEMPTS: String(MAX_ATTEMPTS), UPLOAD_DB_TIMEOUT_MS: '1000' };
    const webDirs = [children.tempDir(), children.tempDir()];
    const webs: ChildServer[] = [];
    for (const dir of webDirs) webs.push(await children.start({ ...common, DATA_DIR: dir }, [], 'serve'));
    const workerEnv = () => ({ ...common, DATA_DIR: children.tempDir(), JOBS_DISABLED: 'false' });
    const workers: ChildServer[] = [];
    for (let i = 0; i < 3; i += 1) workers.push(await children.start(workerEnv(), [], 'worker'));
    const startedAt = new Date();

    const load = uploadAll(webs);
    // Poison: bundles the upload checks never let in (undecodable), written straight to the queue.
    await waitFor('some bundles are stored', async () => (await count(`SELECT count(*)::int AS n FROM bundles`)) > 200);
    for (let i = 0; i < POISON; i += 1) {
      await direct.query(`INSERT INTO bundles (endpoint, transport, compression, encrypted, body) VALUES ('bundle', 'json', 'gzip', false, $1)`, [Buffer.from(`not gzip ${i}`)]);
    }

    // A worker killed (-9) while the queue is busy, then replaced.
    await waitFor('processing is under way', async () => (await count(`SELECT count(*)::int AS n FROM bundles WHERE status = 'processed'`)) > 300);
    const victim = workers[0];
    const victimPid = victim.child.pid!;
    expect(await count(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`)).toBeGreaterThan(0);
    const killed = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await killed;
    workers.push(await children.start(workerEnv(), [], 'worker'));

    // The database restarts while it is unreachable; both web processes spool meanwhile.
    await waitFor('half the uploads are sent', async () => load.remaining() < MARKERS);
    await proxy.stop();
    const postmaster = Number(fs.readFileSync(path.join(clusterDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGINT');
    await waitFor('both web processes spool', async () => webDirs.every((dir) => spooled(dir) >= 5), 60_000, 50);
    const spooledMost = webDirs.map(spooled);
    await waitFor('the database runs again', async () => (await count('SELECT 1 AS n')) === 1);
    await proxy.start();

    await load.done;
    await waitFor('every spool is empty and no bundle is pending', async () =>
      webDirs.every((dir) => spooled(dir) === 0) && (await count(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`)) === 0, 240_000, 500);

    // At least one tick of the every-minute jobs, then every process stops (SIGTERM) so that what
    // follows reads a quiet database.
    await waitFor('a scheduled job has run', async () =>
      (await direct.query(`SELECT count(*)::int AS n FROM job_runs WHERE trigger = 'schedule' AND outcome = 'succeeded' AND started_at >= $1`, [startedAt])).rows[0].n > 0, 180_000, 1_000);
    await Promise.all([...webs, ...workers].filter((c) => c.child.exitCode === null && c.child.signalCode === null).map((c) => {
      const exited = new Promise((resolve) => c.child.once('exit', resolve));
      c.child.kill('SIGTERM');
      return exited;
    }));

    // Every upload was answered 201, spooled ones included, and is one bundle (distinct receipts).
    expect([...load.statuses.keys()]).toEqual([201]);
    expect(load.acknowledged).toHaveLength(MARKERS * 2);
    expect(spooledMost.every((n) => n >= 5)).toBe(true);
    const bundles = (await direct.query(`SELECT count(*)::int AS n, count(DISTINCT receipt)::int AS receipts,
        count(*) FILTER (WHERE status = 'processed')::int AS processed, count(*) FILTER (WHERE status = 'errored')::int AS errored,
        coalesce(sum(points_added), 0)::int AS added FROM bundles WHERE receipt IS NOT NULL`)).rows[0];
    expect(bundles).toEqual({ n: MARKERS * 2, receipts: MARKERS * 2, processed: MARKERS * 2, errored: 0, added: MARKERS });

    // The poison bundles: errored after exactly MAX_ATTEMPTS attempts, whichever workers tried.
    const poison = (await direct.query(`SELECT status, attempts FROM bundles WHERE receipt IS NULL`)).rows;
    expect(poison).toEqual(Array.from({ length: POISON }, () => ({ status: 'errored', attempts: MAX_ATTEMPTS })));

    // Every point once: each marker stored exactly once although it came twice.
    const perMarker = (await direct.query(`SELECT (properties->>'outage-marker')::int AS marker, count(*)::int AS n FROM data_points GROUP BY 1`)).rows;
    expect(perMarker).toHaveLength(MARKERS);
    expect(perMarker.filter((row) => row.n !== 1)).toEqual([]);

    // Counters agree with the rows: the bundle counters (appended by five processes at once) ...
    const counters = (await direct.query(`SELECT (SELECT sum(received)::int FROM bundle_counts) AS received, (SELECT sum(pending)::int FROM bundle_counts) AS pending,
        (SELECT sum(errored)::int FROM bundle_counts) AS errored`)).rows[0];
    expect(counters).toEqual({ received: MARKERS * 2 + POISON, pending: 0, errored: POISON });
    // ... and the statistics, folded now, count each source's points.
    expect((await runDcs(['run-job', 'source-statistics'], { databaseUrl: embedded.url })).code).toBe(0);
    const mismatched = (await direct.query(`
      WITH stored AS (SELECT source, count(*)::int AS n FROM data_points GROUP BY source),
           counted AS (SELECT source, sum(points)::int AS n FROM source_daily_points GROUP BY source)
      SELECT s.source, s.n AS stored, c.n AS counted FROM stored s FULL JOIN counted c USING (source)
      WHERE s.n IS DISTINCT FROM c.n`)).rows;
    expect(mismatched).toEqual([]);

    // No scheduled job ran twice for one tick: runs of one job never overlap and never share a
    // minute (the killed worker's unfinished run aside).
    const runs = (await direct.query(`SELECT job, pid, outcome, started_at, finished_at FROM job_runs
      WHERE trigger = 'schedule' AND started_at >= $1 ORDER BY job, started_at`, [startedAt])).rows;
    expect(runs.length).toBeGreaterThan(0);
    const finished = runs.filter((run) => !(run.pid === victimPid && run.outcome !== 'succeeded'));
    for (let i = 1; i < finished.length; i += 1) {
      const [before, after] = [finished[i - 1], finished[i]];
      if (before.job !== after.job) continue;
      expect(Math.floor(after.started_at.getTime() / 60_000), `${after.job} ran twice in one minute`).not.toBe(Math.floor(before.started_at.getTime() / 60_000));
      if (before.finished_at) expect(after.started_at.getTime(), `${after.job} overlapped itself`).toBeGreaterThanOrEqual(before.finished_at.getTime());
    }
  }, 600_000);
});
