/** What the system-health page reads besides readStatus and the job history: snapshots and errored bundles. */
import type { Pool } from '../db/database.ts';

export interface SnapshotRow {
  takenAt: Date;
  bundlesAdded: number;
  bundlesPending: number;
  bundlesErrored: number;
  pointsAdded: number;
  processingLagSeconds: number;
}

/** The server-health snapshots taken since `since`, oldest first (one per 15 minutes: ~96 a day). */
export async function listHealthSnapshots(db: Pool, since: Date): Promise<SnapshotRow[]> {
  const { rows } = await db.query(
    `SELECT taken_at, bundles_added::float8 AS bundles_added, bundles_pending::float8 AS bundles_pending,
            bundles_errored::float8 AS bundles_errored, points_added::float8 AS points_added,
            coalesce(processing_lag_seconds, 0) AS processing_lag_seconds
     FROM server_health_snapshots WHERE taken_at >= $1 ORDER BY taken_at`,
    [since],
  );
  return rows.map((r) => ({
    takenAt: r.taken_at,
    bundlesAdded: r.bundles_added,
    bundlesPending: r.bundles_pending,
    bundlesErrored: r.bundles_errored,
    pointsAdded: r.points_added,
    processingLagSeconds: r.processing_lag_seconds,
  }));
}

export interface ErroredBundle {
  id: number;
  receivedAt: Date;
  transport: string;
  contentType: string | null;
  identifier: string | null;
  attempts: number;
  error: string | null;
  sources: string[] | null;
}

/** The newest errored bundles (never their bodies: those can be megabytes). */
export async function listErroredBundles(db: Pool, limit = 50): Promise<ErroredBundle[]> {
  // ORDER BY id DESC walks the partial index bundles_errored backwards: newest first, no sort.
  const { rows } = await db.query(
    `SELECT id::float8 AS id, received_at, transport, content_type, identifier, attempts, error, sources
     FROM bundles WHERE status = 'errored' ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    receivedAt: r.received_at,
    transport: r.transport,
    contentType: r.content_type,
    identifier: r.identifier,
    attempts: r.attempts,
    error: r.error,
    sources: r.sources,
  }));
}

/**
 * Ids of every errored bundle that had a processing attempt (what "Reprocess all errored" takes).
 * Errored bundles are few (each is a failure someone should look at), so the list stays short.
 */
export async function listRetryableErroredIds(db: Pool): Promise<number[]> {
  const { rows } = await db.query(`SELECT id::float8 AS id FROM bundles WHERE status = 'errored' AND attempts > 0 ORDER BY id`);
  return rows.map((r) => r.id);
}

/** How many errored bundles can be reprocessed (had a processing attempt). */
export async function countRetryableErrored(db: Pool): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'errored' AND attempts > 0`);
  return rows[0].n;
}
