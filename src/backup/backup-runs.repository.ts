/**
 * The server's record of its backup runs (backup_runs, migration 0019) and the queue of bundles
 * not yet in a backup (backup_queue, migration 0017). System health, the home page's notice,
 * /metrics and `dcs backup list` read it through here.
 */
import type { Pool } from '../db/database.ts';
import type { SmallTable } from './small-tables.ts';

export interface BackupRun {
  id: number;
  name: string;
  startedAt: Date;
  finishedAt: Date | null;
  state: 'running' | 'succeeded' | 'failed';
  error: string | null;
  destinations: string[];
  bundles: number;
  files: number;
  bytes: number;
  tableRows: number;
}

const RUN_COLUMNS = `id::int, name, started_at AS "startedAt", finished_at AS "finishedAt", state, error, destinations,
  bundles::int, files, bytes::float8 AS bytes, table_rows::int AS "tableRows"`;

/**
 * Records a new run. Amazon products changed since the previous successful run started (less ten
 * minutes, for a change that committed late) go into this one; the first run copies them all.
 */
export async function startRun(pool: Pool, name: string, destinations: string[]): Promise<{ id: number; productsSince: Date | null }> {
  const { rows } = await pool.query(
    `INSERT INTO backup_runs (name, destinations, products_since)
     SELECT $1, $2, coalesce((SELECT max(started_at) FROM backup_runs WHERE state = 'succeeded') - interval '10 minutes')
     RETURNING id::int, products_since AS "productsSince"`,
    [name, destinations],
  );
  return rows[0];
}

export interface RunTotals {
  bundles: number;
  firstBundle: number | null;
  lastBundle: number | null;
  files: number;
  bytes: number;
  tableRows: number;
}

export async function finishRun(pool: Pool, id: number, totals: RunTotals): Promise<void> {
  await pool.query(
    `UPDATE backup_runs SET state = 'succeeded', finished_at = now(), bundles = $2, first_bundle = $3, last_bundle = $4, files = $5, bytes = $6, table_rows = $7
     WHERE id = $1`,
    [id, totals.bundles, totals.firstBundle, totals.lastBundle, totals.files, totals.bytes, totals.tableRows],
  );
}

export async function failRun(pool: Pool, id: number, error: string): Promise<void> {
  await pool.query(`UPDATE backup_runs SET state = 'failed', finished_at = now(), error = $2 WHERE id = $1`, [id, error.slice(0, 2000)]);
}

export async function listRuns(pool: Pool, limit: number): Promise<BackupRun[]> {
  const { rows } = await pool.query(`SELECT ${RUN_COLUMNS} FROM backup_runs ORDER BY id DESC LIMIT $1`, [limit]);
  return rows;
}

export interface BackupHealth {
  lastSuccess: BackupRun | null;
  /** Failed runs since the last successful one, and the newest of them. */
  failuresSince: number;
  lastFailure: BackupRun | null;
  /** Bundles waiting for the next run. */
  queued: number;
}

export async function readBackupHealth(pool: Pool): Promise<BackupHealth> {
  const { rows } = await pool.query(
    `WITH success AS (SELECT ${RUN_COLUMNS} FROM backup_runs WHERE state = 'succeeded' ORDER BY finished_at DESC LIMIT 1),
     failures AS (SELECT ${RUN_COLUMNS} FROM backup_runs WHERE state = 'failed' AND id > coalesce((SELECT id FROM success), 0) ORDER BY id DESC)
     SELECT (SELECT row_to_json(s) FROM success s) AS success, (SELECT count(*)::int FROM failures) AS failures,
            (SELECT row_to_json(f) FROM failures f LIMIT 1) AS failure, (SELECT count(*)::int FROM backup_queue) AS queued`,
  );
  const revive = (run: Record<string, unknown> | null): BackupRun | null =>
    run && ({ ...run, startedAt: new Date(run.startedAt as string), finishedAt: run.finishedAt ? new Date(run.finishedAt as string) : null } as BackupRun);
  return { lastSuccess: revive(rows[0].success), failuresSince: rows[0].failures, lastFailure: revive(rows[0].failure), queued: rows[0].queued };
}

/**
 * Queued bundles (oldest first) with the bytes each adds to a backup file (body and files). The
 * queue holds each bundle's received_at too, so each is read from its own partition.
 */
export async function queuedBundles(pool: Pool): Promise<{ id: number; bytes: number }[]> {
  const { rows } = await pool.query(
    `SELECT q.bundle_id::float8 AS id,
            (octet_length(b.body) + coalesce((SELECT sum(f.size) FROM bundle_files f WHERE f.bundle_id = b.id AND f.bundle_received_at = b.received_at), 0))::float8 AS bytes
     FROM backup_queue q JOIN bundles b ON b.received_at = q.bundle_received_at AND b.id = q.bundle_id ORDER BY q.bundle_id`,
  );
  return rows;
}

/**
 * Queued bundles as backup lines (one JSON object each): the row as stored, its files, and the
 * `recorded` time its points were given (processing time, or the one it kept), so a restore gives
 * them the same. Read through the queue, by each bundle's key (received_at, id).
 */
export async function bundleLines(pool: Pool, ids: number[]): Promise<{ id: number; receivedAt: string; line: string }[]> {
  const { rows } = await pool.query(
    `SELECT b.id::float8 AS id, b.received_at::text AS "receivedAt", json_build_object(
       'id', b.id, 'received_at', b.received_at, 'endpoint', b.endpoint, 'transport', b.transport, 'content_type', b.content_type,
       'compression', b.compression, 'compressed_at_rest', b.compressed_at_rest, 'encrypted', b.encrypted,
       'nonce', translate(encode(b.nonce, 'base64'), E'\\n', ''), 'body', translate(encode(b.body, 'base64'), E'\\n', ''),
       'identifier', b.identifier, 'receipt', b.receipt, 'status', b.status,
       'points_recorded_at', coalesce(b.points_recorded_at, CASE WHEN b.status = 'processed' THEN b.processed_at END),
       'files', (SELECT json_agg(json_build_object('field_name', f.field_name, 'filename', f.filename, 'content_type', f.content_type,
                   'size', f.size, 'content', translate(encode(f.content, 'base64'), E'\\n', '')) ORDER BY f.id)
                 FROM bundle_files f WHERE f.bundle_id = b.id AND f.bundle_received_at = b.received_at)
     )::text AS line
     FROM backup_queue q JOIN bundles b ON b.received_at = q.bundle_received_at AND b.id = q.bundle_id
     WHERE q.bundle_id = ANY($1::bigint[]) ORDER BY b.id`,
    [ids],
  );
  return rows;
}

/**
 * The bundles now held by a finished run leave the queue; so do queued ids whose bundle is gone.
 * "Gone" is by id (each partition's index): a bundle whose received_at was changed by hand after
 * it was queued stays queued, counted in the backup's health, rather than dropped unsaved.
 */
export async function dequeue(pool: Pool, ids: number[]): Promise<void> {
  await pool.query('DELETE FROM backup_queue WHERE bundle_id = ANY($1::bigint[])', [ids]);
  await pool.query('DELETE FROM backup_queue q WHERE NOT EXISTS (SELECT 1 FROM bundles b WHERE b.id = q.bundle_id)');
}

const PRODUCTS_PER_PAGE = 500;

/** Every row `table` backs up, as JSON text, page by page (`onRows` is called for each page). */
export async function readSmallTable(pool: Pool, table: SmallTable, productsSince: Date | null, onRows: (rows: string[]) => Promise<void>): Promise<void> {
  if (!table.paged) {
    const { rows } = await pool.query(`SELECT row_to_json(x)::text AS row FROM (${table.select}) x`);
    await onRows(rows.map((r) => r.row));
    return;
  }
  let after = '';
  for (;;) {
    const { rows } = await pool.query(`SELECT x.asin, row_to_json(x)::text AS row FROM (${table.select}) x`, [productsSince, after, PRODUCTS_PER_PAGE]);
    if (rows.length === 0) return;
    await onRows(rows.map((r) => r.row));
    after = rows.at(-1).asin;
  }
}
