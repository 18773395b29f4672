/** The numbers `dcs status` prints: queue state, the upload spool, points and participants. */
import type { Pool } from '../db/database.ts';
import { spoolStats } from '../ingest/spool.ts';
import { BUNDLE_COUNTS_SQL } from './bundle-counts.repository.ts';
import { readProcessingLag } from './processing-lag.ts';

export interface ServerStatus {
  bundles: number;
  bundlesPending: number;
  bundlesErrored: number;
  bundlesProcessed: number;
  oldestPendingReceivedAt: string | null;
  /** age of the oldest pending bundle (processing-lag.ts), 0 when none is pending */
  processingLagSeconds: number;
  /** uploads kept in this machine's spool (SPOOL_DIR) until the database takes them */
  spooled: number;
  spoolBytes: number;
  /** undecodable uploads kept (ERRORED_UPLOADS_MAX_BYTES), and those answered but not kept beyond it */
  erroredUploadBytes: number;
  erroredUploadsNotKept: number;
  points: number;
  pointsRejected: number;
  sources: number;
  latestPointRecordedAt: string | null;
}

export async function readStatus(pool: Pool, spoolDir: string): Promise<ServerStatus> {
  // Bundles and rejected points from the bundle counters (bundle-counts.repository.ts), as /metrics reads them.
  const [spool, lag, { rows }] = await Promise.all([spoolStats(spoolDir), readProcessingLag(pool), pool.query(`
    WITH bundle_totals AS (${BUNDLE_COUNTS_SQL})
    SELECT
      b.received AS bundles, b.pending, b.errored,
      b.points_rejected AS rejected,
      (SELECT coalesce(sum(point_count), 0) FROM data_sources) AS points,
      (SELECT stored_bytes FROM errored_upload_totals) AS errored_bytes,
      (SELECT refused_uploads FROM errored_upload_totals) AS errored_not_kept,
      (SELECT count(*) FROM data_sources) AS sources,
      (SELECT max(latest_point_recorded) FROM data_sources) AS latest_recorded
    FROM bundle_totals b`)]);
  const r = rows[0];
  return {
    bundles: r.bundles,
    bundlesPending: r.pending,
    bundlesErrored: r.errored,
    bundlesProcessed: r.bundles - r.pending - r.errored,
    oldestPendingReceivedAt: lag.oldestPendingReceivedAt?.toISOString() ?? null,
    processingLagSeconds: Math.round(lag.seconds),
    spooled: spool.files,
    spoolBytes: spool.bytes,
    erroredUploadBytes: Number(r.errored_bytes ?? 0),
    erroredUploadsNotKept: Number(r.errored_not_kept ?? 0),
    points: Number(r.points),
    pointsRejected: Number(r.rejected),
    sources: r.sources,
    latestPointRecordedAt: r.latest_recorded?.toISOString() ?? null,
  };
}
