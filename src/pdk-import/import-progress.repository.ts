/**
 * How far an import of an original server's points got, and which of them could not be imported
 * (tables pdk_import_progress and pdk_import_failures, migration 0020).
 */
import { LOCKS, tryLockSession, unlockSession } from '../db/advisory-lock.ts';
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

/**
 * Holds a lock on importing `origin` until `release` (two imports of one origin at once would not
 * store anything twice, but would fight over its position). Undefined when another process holds it.
 */
export async function lockImport(pool: Pool, origin: string): Promise<{ release(): Promise<void> } | undefined> {
  const client = await pool.connect();
  try {
    if (!(await tryLockSession(client, LOCKS.pdkImport(origin)))) {
      client.release();
      return undefined;
    }
  } catch (error) {
    client.release(true);
    throw error;
  }
  return {
    async release() {
      await unlockSession(client, LOCKS.pdkImport(origin)).catch(() => undefined);
      client.release();
    },
  };
}

export interface ImportPosition {
  /** The last point imported: its `recorded` (text, microseconds kept) and its id on the original. */
  recorded: string;
  id: number;
  /** Points read up to here, over every run. */
  pointsRead: number;
}

export async function readImportPosition(pool: Pool, origin: string): Promise<ImportPosition | undefined> {
  const { rows } = await pool.query(
    `SELECT to_char(last_recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS recorded, last_point_id AS id, points_read
     FROM pdk_import_progress WHERE origin = $1`,
    [origin],
  );
  return rows[0] ? { recorded: rows[0].recorded, id: Number(rows[0].id), pointsRead: Number(rows[0].points_read) } : undefined;
}

/** Called once the points up to `position` are stored as bundles. */
export async function saveImportPosition(pool: Db, origin: string, position: ImportPosition): Promise<void> {
  await pool.query(
    `INSERT INTO pdk_import_progress (origin, last_recorded, last_point_id, points_read) VALUES ($1, $2, $3, $4)
     ON CONFLICT (origin) DO UPDATE SET last_recorded = excluded.last_recorded, last_point_id = excluded.last_point_id,
       points_read = excluded.points_read, updated_at = now()`,
    [origin, position.recorded, position.id, position.pointsRead],
  );
}

/** Forgets the position and the failures: the next run reads everything again. */
export async function clearImportPosition(pool: Pool, origin: string): Promise<void> {
  await pool.query('DELETE FROM pdk_import_progress WHERE origin = $1', [origin]);
  await pool.query('DELETE FROM pdk_import_failures WHERE origin = $1', [origin]);
}

export interface PointFailure {
  key: string;
  reason: string;
}

export async function recordPointFailures(pool: Db, origin: string, failures: readonly PointFailure[]): Promise<void> {
  if (failures.length === 0) return;
  await pool.query(
    `INSERT INTO pdk_import_failures (origin, key, reason) SELECT $1, * FROM unnest($2::text[], $3::text[])
     ON CONFLICT (origin, key) DO UPDATE SET reason = excluded.reason`,
    [origin, failures.map((f) => f.key), failures.map((f) => f.reason)],
  );
}

/** Every failure recorded for `origin`, by this run and the runs it continues. */
export async function readPointFailures(pool: Pool, origin: string): Promise<PointFailure[]> {
  const { rows } = await pool.query<PointFailure>(
    `SELECT key, reason FROM pdk_import_failures WHERE origin = $1 ORDER BY length(key), key`,
    [origin],
  );
  return rows;
}
