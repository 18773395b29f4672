/**
 * The part of migration 0009 that rewrites every data point: each stored row gets its
 * content_digest (computed by PostgreSQL: dcs_point_digest), then the unique key, the file links
 * and the harvested points move from content_hash to the digest and content_hash is dropped.
 * Until then processing and the ASIN harvest wait (pointDigestsReady); uploads go on being stored.
 *
 * The rows are rewritten in batches of heap blocks (a TID range scan each, one transaction each,
 * with the position), so a stop or a crash resumes where it was. After every twentieth of the
 * table a VACUUM frees the former row versions for the next batches' rows: without it the table
 * doubled in size (autovacuum did not keep up); with it, it grew by about a tenth (measured,
 * docs/operations.md). That VACUUM leaves the indexes alone (INDEX_CLEANUP OFF: each time a scan
 * of every index); autovacuum removes their stale entries once, afterwards. The unique index is
 * built in the last transaction under a SHARE lock: reads go on, writers (an older process still
 * running) wait. Progress is reported every PROGRESS_MS, for the index from
 * pg_stat_progress_create_index.
 */
import type { Logger } from '../log.ts';
import { LOCKS, lockSession, tryLockSession, unlockSession } from './advisory-lock.ts';
import type { Pool, PoolClient } from './database.ts';
import { premakeMonthlyPartitions } from './partitions.ts';
import { transactionOn } from './transaction.ts';

const PROGRESS_MS = 15_000;
/** Batches are sized to take about this long (the first is 1,000 blocks, 8 MB of heap). */
const BATCH_MS = 2_000;
/** A VACUUM after each this fraction of the table (and at least 8 MB of it). */
const VACUUM_EVERY = 1 / 20;

type Report = (message: string) => void;

export interface CompleteOptions {
  /** Progress lines (default: the log, at info). */
  report?: Report;
  /** Stops between batches (the worker stopping); the next run resumes. */
  signal?: AbortSignal;
  /** Waits while another process does it, instead of returning false. */
  wait?: boolean;
}

const ready = new WeakSet<Pool>();

/** True once every point has its digest and the keys have moved; asked until true, per pool. */
export async function pointDigestsReady(pool: Pool): Promise<boolean> {
  if (ready.has(pool)) return true;
  const { rows } = await pool.query('SELECT finished_at IS NOT NULL AS done FROM point_digest_backfill');
  if (rows[0].done) ready.add(pool);
  return rows[0].done;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Runs `work`, calling `tick` every PROGRESS_MS meanwhile. */
async function reporting<T>(work: Promise<T>, tick: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void tick().catch(() => undefined), PROGRESS_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

interface State {
  total_blocks: number | null;
  next_block: number;
  points_done: number;
}

/** Gives every row of the heap as it was at the start its digest; false if stopped first. */
async function backfill(client: PoolClient, report: Report, signal: AbortSignal | undefined): Promise<boolean> {
  const read = async () => (await client.query<State>('SELECT total_blocks, next_block, points_done FROM point_digest_backfill')).rows[0];
  let state = await read();
  if (state.total_blocks === null) {
    // Under a SHARE lock no write is in progress: every committed row lies in these blocks and
    // has an id up to the sequence's last value. Rows added later are done at the end.
    await transactionOn(client, () => client.query(`LOCK TABLE data_points IN SHARE MODE;
      UPDATE point_digest_backfill SET started_at = now(),
        total_blocks = pg_relation_size('data_points') / current_setting('block_size')::int,
        max_id = coalesce(pg_sequence_last_value(pg_get_serial_sequence('data_points', 'id')::regclass), 0)`));
    state = await read();
  }
  const total = state.total_blocks!;
  let next = state.next_block;
  let done = state.points_done;
  // The planner's estimate (rows per page at the last ANALYZE, times the pages now), or the ids.
  const { rows } = await client.query(
    `SELECT CASE WHEN relpages > 0 AND reltuples >= 0 THEN reltuples / relpages * $1 ELSE (SELECT max_id FROM point_digest_backfill) END AS n
     FROM pg_class WHERE oid = 'data_points'::regclass`,
    [total],
  );
  const estimated = Math.max(Number(rows[0].n), done);
  report(`content digests (migration 0009): computing them for the ~${count(estimated)} stored points${next > 0 ? `, resuming at ${count(done)}` : ''}; `
    + 'processing waits until this is done, uploads are stored meanwhile');
  const started = { at: performance.now(), block: next, points: done };
  let lastReport = started.at;
  let step = 1_000;
  let vacuumedAt = next;
  while (next < total) {
    if (signal?.aborted) return false;
    const upTo = Math.min(total, next + step);
    const batchStarted = performance.now();
    const rows = await transactionOn(client, async () => {
      const { rowCount } = await client.query(
        `UPDATE data_points SET content_digest = dcs_point_digest(properties)
         WHERE ctid >= $1::tid AND ctid < $2::tid AND content_digest IS NULL`,
        [`(${next},0)`, `(${upTo},0)`],
      );
      await client.query('UPDATE point_digest_backfill SET next_block = $1, points_done = points_done + $2', [upTo, rowCount ?? 0]);
      return rowCount ?? 0;
    }, { settings: { synchronous_commit: 'off' } });
    step = Math.max(100, Math.min(100_000, Math.round((step * BATCH_MS) / Math.max(performance.now() - batchStarted, 1))));
    next = upTo;
    done += rows;
    if (next - vacuumedAt >= Math.max(1_000, total * VACUUM_EVERY)) {
      await client.query('VACUUM (INDEX_CLEANUP OFF) data_points');
      vacuumedAt = next;
    }
    const now = performance.now();
    if (now - lastReport >= PROGRESS_MS && next < total) {
      lastReport = now;
      const seconds = (now - started.at) / 1000;
      const left = (seconds * (total - next)) / (next - started.block);
      report(`content digests: ${count(done)} points (${((100 * next) / total).toFixed(1)}% of the table), `
        + `${count((done - started.points) / seconds)} points/s, about ${duration(left)} left`);
    }
  }
  return true;
}

/**
 * Moves the keys to the digest, in one transaction (at migration on an empty table, or after
 * the backfill): the rows added since the backfill began, the unique index, the links and
 * harvested points (found through the former key, still unique here), then content_hash goes.
 */
async function moveKeys(client: PoolClient, pool: Pool | undefined, report: Report): Promise<void> {
  await transactionOn(client, async () => {
    const { rows } = await client.query('SELECT max_id, finished_at FROM point_digest_backfill FOR UPDATE');
    if (rows[0].finished_at) return;
    await client.query(`LOCK TABLE data_points IN SHARE MODE; SET LOCAL maintenance_work_mem = '256MB'`);
    await client.query('UPDATE data_points SET content_digest = dcs_point_digest(properties) WHERE id > $1 AND content_digest IS NULL', [rows[0].max_id ?? 0]);
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // Migrations 0035 and 0032 waited for this step: the keys take the points' source (the key
    // is built with it at once), then the table can be partitioned (it walks the plain table's
    // heap), and its months premade.
    const { rows: pending } = await client.query(
      `SELECT to_regproc('dcs_key_points_by_source') IS NOT NULL AS keyed, to_regproc('dcs_partition_by_month') IS NOT NULL AS installed`,
    );
    const key = pending[0].keyed ? 'source, created, content_digest' : 'created, content_digest';
    const building = client.query(`CREATE UNIQUE INDEX data_points_digest ON data_points (${key})`);
    await reporting(building, async () => {
      const progress = await pool?.query(
        'SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total FROM pg_stat_progress_create_index WHERE pid = $1',
        [pid],
      );
      const p = progress?.rows[0];
      if (!p) return;
      const [doneOf, totalOf] = Number(p.tuples_total) > 0 ? [p.tuples_done, p.tuples_total] : [p.blocks_done, p.blocks_total];
      const phase = String(p.phase).replace(/^building index: /, '');
      report(`content digests: building the unique index on (${key}): ${phase}${Number(totalOf) > 0 ? `, ${((100 * doneOf) / totalOf).toFixed(0)}%` : ''}`);
    });
    await client.query(`
      UPDATE data_point_files f SET point_digest = p.content_digest FROM data_points p
        WHERE p.created = f.point_created AND p.content_hash = f.point_hash;
      -- links of points that are gone: their bundles link them again if they are reprocessed
      DELETE FROM data_point_files WHERE point_digest IS NULL;
      ALTER TABLE data_point_files DROP CONSTRAINT data_point_files_pkey, DROP COLUMN point_hash,
        ADD PRIMARY KEY (point_created, point_digest, file_id);
      UPDATE amazon_harvested_points h SET content_digest = p.content_digest FROM data_points p
        WHERE p.created = h.created AND p.content_hash = h.content_hash;
      -- points that are gone (deleted, or their bundles queued by dcs reprocess and not rebuilt yet)
      DELETE FROM amazon_harvested_points WHERE content_digest IS NULL;
      ALTER TABLE amazon_harvested_points DROP CONSTRAINT amazon_harvested_points_pkey, DROP COLUMN content_hash,
        ADD PRIMARY KEY (created, content_digest);
      -- Every row has its digest (the backfill, then the rows added since, under this lock); NOT VALID
      -- spares a scan of the whole table to prove it again, and new rows are checked.
      ALTER TABLE data_points DROP CONSTRAINT data_points_identity, DROP COLUMN content_hash,
        ADD CONSTRAINT data_points_identity UNIQUE USING INDEX data_points_digest,
        ADD CONSTRAINT data_points_digest_present CHECK (content_digest IS NOT NULL) NOT VALID;
      UPDATE point_digest_backfill SET finished_at = now();`);
    if (pending[0].keyed) await client.query('SELECT dcs_key_points_by_source()');
    if (pending[0].installed) {
      await client.query(`SELECT dcs_partition_by_month('data_points', 'created')`);
      await premakeMonthlyPartitions(client, 'data_points', 'created');
    }
  });
}

/**
 * Completes migration 0009 (see above), once per database: by one process at a time (an
 * advisory lock); true when done, false when another process is doing it (unless `wait`) or
 * `signal` stopped it first (the statement running then is canceled: a stopping worker does not
 * wait for a batch, a lock or the index build).
 */
export async function completePointDigests(pool: Pool, log: Logger, options: CompleteOptions = {}): Promise<boolean> {
  if (await pointDigestsReady(pool)) return true;
  if (options.signal?.aborted) return false;
  const report = options.report ?? ((message: string) => log.info(message));
  const client = await pool.connect();
  let broken = false;
  try {
    if (options.wait) await lockSession(client, LOCKS.pointDigests);
    else if (!(await tryLockSession(client, LOCKS.pointDigests))) return false;
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const cancel = () => void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    options.signal?.addEventListener('abort', cancel);
    try {
      if (await pointDigestsReady(pool)) return true; // done by the process that held the lock
      const started = performance.now();
      if (!(await backfill(client, report, options.signal))) return false;
      await moveKeys(client, pool, report);
      ready.add(pool);
      report(`content digests: done in ${duration((performance.now() - started) / 1000)}; every point is identified by (source, created, content_digest)`);
      return true;
    } catch (error) {
      if (options.signal?.aborted) return false; // canceled: the next run resumes
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      await unlockSession(client, LOCKS.pointDigests).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** At migration, on an empty data_points (a new database), the whole step is instant: done at once. */
export async function completePointDigestsIfEmpty(client: PoolClient): Promise<void> {
  const { rows } = await client.query('SELECT finished_at IS NULL AND NOT EXISTS (SELECT 1 FROM data_points) AS now FROM point_digest_backfill');
  if (rows[0].now) await moveKeys(client, undefined, () => undefined);
}
