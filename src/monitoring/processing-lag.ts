/**
 * The processing lag: how long the oldest pending bundle has waited, by its received_at. Not the
 * bundle of lowest id: an upload the spool kept through a database outage is inserted when the
 * spool drains, with a higher id than the uploads received after it. /metrics, `dcs status`, the
 * System health page and the server-health snapshots all read it here. One probe of the partial
 * index bundles_pending_received (migration 0013), however many bundles wait.
 */
import type { Pool, PoolClient } from '../db/database.ts';

export interface ProcessingLag {
  /** received_at of the oldest pending bundle; null when none is pending */
  oldestPendingReceivedAt: Date | null;
  /** its age in seconds, as the database's clock tells; 0 when none is pending */
  seconds: number;
}

export async function readProcessingLag(db: Pool | PoolClient): Promise<ProcessingLag> {
  const { rows } = await db.query(`
    SELECT oldest, coalesce(greatest(0, extract(epoch FROM clock_timestamp() - oldest)), 0)::float8 AS seconds
    FROM (SELECT min(received_at) AS oldest FROM bundles WHERE status = 'pending') pending`);
  return { oldestPendingReceivedAt: rows[0].oldest, seconds: rows[0].seconds };
}
