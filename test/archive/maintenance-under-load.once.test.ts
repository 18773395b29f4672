/**
 * T2's maintenance half (issue 22 §5, scale-out.md §4 item 3): the job `partitions` premakes,
 * freezes, archives a cold month (and the history partition before it) to a folder, and the month
 * is restored, all while three clients upload bundles over HTTP to a `dcs serve` process and a
 * `dcs worker` process stores their points. The points span past months, the cold month, the
 * current one, a month the job premakes (its points wait in DEFAULT until then) and the year 2200
 * (DEFAULT for good); the load keeps sending points late for the cold month, some of them points
 * the archive already holds. Afterwards: every upload is a processed bundle; every point is
 * stored exactly once across the attached partitions and the archive; each archive's manifest
 * counts the rows its table held just before the drop; the late points wait in DEFAULT and come
 * back once with the restore; the job archived (after giving up on its lock timeout, if the load
 * made it, and trying again). The lock waits sampled meanwhile are printed.
 * Once-only (child processes, about a minute): not repeated on other Node and PostgreSQL versions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveManifest } from '../../src/archive/archive-partition.ts';
import { folderStore } from '../../src/object-store.ts';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { restorePartition } from '../../src/archive/restore-partition.ts';
import { loadConfig } from '../../src/config.ts';
import { listPartitions, monthPartitionName, monthStart } from '../../src/db/partitions.ts';
import { createLogger } from '../../src/log.ts';
import { useChildServers, type ChildServer } from '../helpers/child-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { FORM, gzipForm, type Point } from '../helpers/samples.ts';
import { pointAt } from '../monitoring/support.ts';

const PRELOAD_BUNDLES = 60;
const CLIENTS = 3;
/** Load bundles at most (the load stops earlier once the maintenance is done). */
const LOAD_BUNDLES_MAX = 2_000;
const FAR_FUTURE = 'Y2200';

const children = useChildServers();
let db: TestDatabase;
let sampler: pg.Pool;
let archiveDir: string;
/** What runs in the background of the test (the load, the sampler): stopped before the database goes, if the test fails. */
const background: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sampler = new pg.Pool({ connectionString: db.url, max: 1 });
  archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-t2-archive-'));
  // The row count of each archived table just before its drop, by the database itself: the job
  // records the archive (state 'archived') in the transaction that drops the table, before the DROP.
  await db.pool.query(`
    CREATE TABLE t2_counted_before_drop (partition text PRIMARY KEY, rows bigint NOT NULL);
    CREATE FUNCTION t2_count_before_drop() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      EXECUTE format('INSERT INTO t2_counted_before_drop SELECT %L, count(*) FROM %I ON CONFLICT (partition) DO UPDATE SET rows = excluded.rows', NEW.partition, NEW.partition);
      RETURN NEW;
    END $$;
    CREATE TRIGGER t2_count AFTER UPDATE OF state ON archived_partitions FOR EACH ROW WHEN (NEW.state = 'archived') EXECUTE FUNCTION t2_count_before_drop();`);
}, 60_000);

afterAll(async () => {
  for (const stop of background) await stop();
  await sampler?.end();
  await db?.drop();
  if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
}, 60_000);

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 180_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const count = async (sql: string, values: unknown[] = []) => Number((await db.pool.query(sql, values)).rows[0].n);

/** The months of the test, as offsets from the first month after the history partition. */
interface Months { first: Date; at(offset: number): Date }

/** Points with a unique marker each, dated in month `offset` (or the year 2200), and what was made. */
function pointMaker(months: Months) {
  let marker = 0;
  const made = new Map<number, { month: number | typeof FAR_FUTURE; point: Point }>();
  const make = (month: number | typeof FAR_FUTURE): Point => {
    marker += 1;
    const n = marker;
    const start = month === FAR_FUTURE ? new Date(Date.UTC(2200, 0, 1)) : months.at(month);
    const created = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1 + (n % 27), n % 24, n % 60, n % 59));
    const point = pointAt(`t2-source-${n % 12}`, created, { body: { 't2-marker': n } });
    made.set(n, { month, point });
    return point;
  };
  return { make, made };
}

interface Load {
  acknowledged: Set<number>;
  statuses: Map<number, number>;
  bundles: () => number;
  stop(): Promise<void>;
}

/** CLIENTS clients uploading `bundle()`s to `web` until stopped; each upload is retried until answered. */
function startLoad(web: ChildServer, bundle: () => Point[]): Load {
  const acknowledged = new Set<number>();
  const statuses = new Map<number, number>();
  let sent = 0;
  let stopping = false;
  let aborted = false;
  const client = async () => {
    while (!stopping && sent < LOAD_BUNDLES_MAX) {
      sent += 1;
      const points = bundle();
      const body = gzipForm(points);
      for (;;) {
        try {
          const reply = await fetch(`${web.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body, signal: AbortSignal.timeout(30_000) });
          await reply.arrayBuffer();
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (reply.status === 201) for (const p of points) acknowledged.add(Number(p['t2-marker']));
          break;
        } catch {
          if (aborted) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, client));
  background.push(() => { stopping = aborted = true; return done; });
  return { acknowledged, statuses, bundles: () => sent, async stop() { stopping = true; await done; } };
}

/** Samples the sessions waiting on a lock (pg_stat_activity, pg_locks) every 25 ms until stopped. */
function sampleLockWaits() {
  const seen = new Map<string, number>();
  let samples = 0;
  let most = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const { rows } = await sampler.query<{ what: string }>(
        `SELECT a.wait_event || ' wait: ' || coalesce((SELECT string_agg(DISTINCT coalesce(l.relation::regclass::text, l.locktype) || ' ' || l.mode, ', ')
                                                      FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted), '?')
                || ' <- ' || left(regexp_replace(a.query, '\\s+', ' ', 'g'), 70) AS what
         FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.wait_event_type = 'Lock'`,
      );
      samples += 1;
      most = Math.max(most, rows.length);
      for (const { what } of rows) seen.set(what, (seen.get(what) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  background.push(() => { stopping = true; return loop.catch(() => undefined); });
  return {
    async stop() {
      stopping = true;
      await loop;
      const lines = [...seen].sort((a, b) => b[1] - a[1]).map(([what, n]) => `  ${String(n).padStart(5)} × ${what}`);
      return `lock waits seen in ${samples} samples (25 ms apart; at most ${most} sessions waiting at once):\n${lines.join('\n') || '  none'}`;
    },
  };
}

describe('the partitions job under an upload and processing load', () => {
  it('premakes, freezes, archives and restores without losing or duplicating a point', async () => {
    const partitions = await listPartitions(db.pool, 'data_points');
    const first = partitions.find((p) => p.name === 'data_points_history')!.upper!;
    const premadeUntil = partitions.filter((p) => p.upper).at(-1)!.upper!;
    const months: Months = { first, at: (offset) => monthStart(first, offset) };
    const monthsBetween = (from: Date, to: Date) => (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth();
    const ahead = monthsBetween(first, premadeUntil); // the first month past the premade ones
    // The job's clock: four months after the first one, so that with ARCHIVE_AFTER_MONTHS=3 the
    // history partition and the first month (the cold one) are archived; premade up to 12 ahead.
    const now = new Date(months.at(4).getTime() + 14 * 86_400_000);
    const cold = monthPartitionName('data_points', months.at(0));
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ARCHIVE_DIR: archiveDir, ARCHIVE_AFTER_MONTHS: '3' });
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const { make, made } = pointMaker(months);

    const env = { DATABASE_URL: db.url, DB_POOL_SIZE: '4' };
    const web = await children.start({ ...env, DATA_DIR: children.tempDir() }, [], 'serve');
    const worker = await children.start({ ...env, DATA_DIR: children.tempDir() }, [], 'worker');

    // In place first: past months (history), the cold month, the months up to the job's current
    // one, a month past the premade ones (DEFAULT until the job premakes it), the year 2200.
    const preloadMonths = [-3, -2, -1, 0, 0, 1, 2, 3, 4, ahead] as const;
    for (let i = 0; i < PRELOAD_BUNDLES; i += 1) {
      const points = [...preloadMonths.map((m) => make(m)), make(FAR_FUTURE)];
      const reply = await fetch(`${web.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(points) });
      expect(reply.status).toBe(201);
    }
    const preloaded = new Set(made.keys());
    const preloadedCold = [...made].filter(([, m]) => m.month === 0).map(([, m]) => m.point);
    await waitFor('the preload is processed', async () => (await count(`SELECT count(*)::int AS n FROM bundles WHERE status <> 'processed'`)) === 0);
    expect(await count(`SELECT count(*)::int AS n FROM data_points`)).toBe(preloaded.size);
    expect(await count(`SELECT count(*)::int AS n FROM data_points_default`)).toBe(PRELOAD_BUNDLES * 2);

    // The load: new points late for the history's months and the cold one, in the current month,
    // in the month the job premakes, in 2200; and one point of the cold month sent again.
    let resent = 0;
    const load = startLoad(web, () => [
      make(-1), make(0), make(0), make(2), make(4), make(4), make(ahead), make(FAR_FUTURE),
      preloadedCold[resent++ % preloadedCold.length],
    ]);
    const lockWaits = sampleLockWaits();
    const processed = () => count(`SELECT count(*)::int AS n FROM bundles WHERE status = 'processed'`);
    await waitFor('the load is being processed', async () => (await processed()) >= PRELOAD_BUNDLES + 30);

    // The job, as often as it takes: a detach that cannot have its lock within the lock timeout
    // gives up until the next run.
    const runs: Record<string, unknown>[] = [];
    const archivedState = async () => (await db.pool.query(`SELECT partition, state FROM archived_partitions ORDER BY partition`)).rows;
    for (let run = 1; run <= 5; run += 1) {
      runs.push(await maintainPartitions({ pool: db.pool, config, log }, now, { freezeAfterXids: 0 }));
      const states = await archivedState();
      if (states.length === 2 && states.every((s) => s.state === 'archived')) break;
    }
    expect(await archivedState()).toEqual([{ partition: 'data_points_history', state: 'archived' }, { partition: cold, state: 'archived' }]);
    const gaveUp = warnings.filter((line) => line.includes('could not detach')).length;
    expect(runs.length === 1 || gaveUp > 0).toBe(true); // a run that archives nothing has given up
    // Premade up to 12 months after the job's clock; the closed months before it frozen (the
    // history and months 0 to 3).
    // premade: the same months of data_points and of bundles
    expect(runs[0]).toMatchObject({ premade: 2 * monthsBetween(premadeUntil, monthStart(now, 13)), frozen: 5 });
    expect(Number(runs[0].movedFromDefault)).toBeGreaterThanOrEqual(PRELOAD_BUNDLES);
    expect(runs.reduce((sum, r) => sum + Number(r.archivedRows), 0)).toBeGreaterThan(0);

    // Late points for the cold month arrive meanwhile, into DEFAULT: new ones and ones the archive holds.
    const coldRange = [months.at(0), months.at(1)];
    const lateInDefault = () => count(`SELECT count(*)::int AS n FROM data_points_default WHERE created >= $1 AND created < $2`, coldRange);
    const lateMarkers = async () => new Set((await db.pool.query(`SELECT (properties->>'t2-marker')::int AS m FROM data_points_default WHERE created >= $1 AND created < $2`, coldRange)).rows.map((r) => r.m as number));
    await waitFor('late points for the cold month wait in DEFAULT, new ones and some the archive holds', async () => {
      const late = [...(await lateMarkers())];
      return late.filter((m) => !preloaded.has(m)).length >= 10 && late.some((m) => preloaded.has(m));
    });

    // The cold month comes back while the load goes on.
    const store = folderStore(archiveDir);
    const restored = await restorePartition({ pool: db.pool, store, log: createLogger('silent') }, cold);
    expect(restored.movedFromDefault).toBeGreaterThanOrEqual(10);
    const afterRestore = await processed();
    await waitFor('more of the load is processed after the restore', async () => (await processed()) >= afterRestore + 30);

    await load.stop();
    await waitFor('no bundle is pending', async () => (await count(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`)) === 0);
    const waitsReport = await lockWaits.stop();
    console.log(`T2 maintenance under load: ${load.bundles()} bundles uploaded during the maintenance by ${CLIENTS} clients; `
      + `the job ran ${runs.length} time(s), gave up ${gaveUp} time(s) on its lock timeout\n`
      + `runs: ${runs.map((r) => JSON.stringify(r)).join('\n      ')}\nrestore: ${JSON.stringify(restored)}\n${waitsReport}`);

    // Every upload answered 201 and processed; none errored (a batch that lost a race retried).
    expect([...load.statuses.keys()]).toEqual([201]);
    const bundles = (await db.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'processed')::int AS processed,
      count(*) FILTER (WHERE status = 'errored')::int AS errored, count(*) FILTER (WHERE attempts > 0)::int AS retried FROM bundles`)).rows[0];
    expect(bundles).toMatchObject({ n: PRELOAD_BUNDLES + load.bundles(), processed: PRELOAD_BUNDLES + load.bundles(), errored: 0 });
    // A batch whose transaction began before a month was attached or detached may fail once (its
    // view of the partitions is stale): the worker runs its bundles again, one by one.
    const batchesFailed = worker.output().split('\n').filter((line) => line.includes('batch failed')).length;
    console.log(`T2: ${batchesFailed} processing batch(es) failed and were run again bundle by bundle; ${bundles.retried} bundle(s) needed a second attempt`);

    // Each archive counts the rows its table held just before the drop, and its files hold them.
    const counted = new Map((await db.pool.query(`SELECT partition, rows::int AS rows FROM t2_counted_before_drop`)).rows.map((r) => [r.partition as string, r.rows as number]));
    const manifestOf = (partition: string) => JSON.parse(fs.readFileSync(path.join(archiveDir, 'data_points', partition, 'manifest.json'), 'utf8')) as ArchiveManifest;
    for (const partition of ['data_points_history', cold]) {
      const manifest = manifestOf(partition);
      expect(counted.get(partition), partition).toBe(manifest.rows);
      expect(manifest.files.reduce((sum, f) => sum + f.rows, 0)).toBe(manifest.rows);
    }
    expect(restored.rows).toBe(manifestOf(cold).rows);

    // Every point once, across the attached partitions and the archive still out (the history's).
    const keys = new Map<string, number>();
    const markers = new Map<number, number>();
    const tally = (source: string, created: Date, digest: string, marker: number) => {
      const key = `${source}|${created.toISOString()}|${digest}`;
      keys.set(key, (keys.get(key) ?? 0) + 1);
      markers.set(marker, (markers.get(marker) ?? 0) + 1);
    };
    const { rows: attached } = await db.pool.query(`SELECT source, created, content_digest::text AS digest, (properties->>'t2-marker')::int AS marker, tableoid::regclass::text AS part FROM data_points`);
    for (const r of attached) tally(r.source, r.created, r.digest, r.marker);
    for (const file of manifestOf('data_points_history').files) {
      const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(archiveDir, file.key)), columns: ['source', 'created', 'content_digest', 'properties'] });
      for (const r of rows) tally(r.source as string, r.created as Date, r.content_digest as string, JSON.parse(r.properties as string)['t2-marker'] as number);
    }
    expect([...keys].filter(([, n]) => n !== 1)).toEqual([]);
    const expected = new Set([...preloaded, ...load.acknowledged]);
    expect([...markers].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...markers.keys()].filter((m) => !expected.has(m))).toEqual([]);
    expect([...expected].filter((m) => !markers.has(m))).toEqual([]);

    // Where they are: the cold month's points (late ones included) back in it, nothing of it left
    // in DEFAULT; the premade month's points out of DEFAULT; only 2200 and points late for the
    // history's months (archived, not restored) in DEFAULT.
    expect(await lateInDefault()).toBe(0);
    const part = new Map(attached.map((r) => [r.marker as number, r.part as string]));
    const misplaced: string[] = [];
    for (const marker of expected) {
      const { month } = made.get(marker)!;
      const where = part.get(marker);
      // A point of the history's months: in its archive, or in DEFAULT when it came after the detach.
      const wanted = month === FAR_FUTURE ? ['data_points_default']
        : month < 0 ? (preloaded.has(marker) ? [undefined] : [undefined, 'data_points_default'])
          : [monthPartitionName('data_points', months.at(month))];
      if (!wanted.includes(where)) misplaced.push(`${marker} (month ${month}): ${where ?? 'archive'}, not ${wanted.map((w) => w ?? 'archive').join(' or ')}`);
    }
    expect(misplaced).toEqual([]);
  }, 300_000);
});
