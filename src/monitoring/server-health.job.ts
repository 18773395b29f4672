/**
 * server-health (every 15 minutes): one server_health_snapshots row, what the system-health page
 * plots, and the pruning of snapshots older than 30 days.
 */
import type { Pool } from '../db/database.ts';
import type { JobDefinition } from '../job-contract.ts';
import { BUNDLE_COUNTS_SQL, foldBundleCounts } from './bundle-counts.repository.ts';
import { readProcessingLag } from './processing-lag.ts';

/** Snapshots kept (days). */
export const SNAPSHOT_DAYS = 30;

export interface HealthSnapshot {
  takenAt: Date;
  bundlesReceived: number;
  bundlesAdded: number;
  bundlesPending: number;
  bundlesErrored: number;
  pointsTotal: number;
  pointsAdded: number;
  processingLagSeconds: number;
}

// bundles_received is the exact number of bundles stored (not the original's max(pk), which
// counts identity values burnt by failed inserts and never goes down when bundles are deleted),
// read from the bundle counters (bundle-counts.repository.ts) like pending and errored: count(*)
// over billions of bundles is not an every-15-minutes query. The point total is the sum of the
// per-source counters.
// "added" is the difference from the previous snapshot (0 for the first, which has nothing to
// compare with; never negative, e.g. after bundles were deleted or points reprocessed).
// $1 is the processing lag (processing-lag.ts).
const INSERT_SNAPSHOT_SQL = `
WITH previous AS (
  SELECT bundles_received, points_total FROM server_health_snapshots ORDER BY taken_at DESC LIMIT 1
),
bundle_totals AS (${BUNDLE_COUNTS_SQL}),
now_counts AS (
  SELECT b.received, b.pending, b.errored, (SELECT coalesce(sum(point_count), 0) FROM data_sources)::bigint AS points
  FROM bundle_totals b
)
INSERT INTO server_health_snapshots (taken_at, bundles_received, bundles_added, bundles_pending, bundles_errored,
                                     points_total, points_added, processing_lag_seconds)
SELECT clock_timestamp(), c.received, coalesce(greatest(0, c.received - p.bundles_received), 0), c.pending, c.errored,
       c.points, coalesce(greatest(0, c.points - p.points_total), 0), $1
FROM now_counts c LEFT JOIN previous p ON true
RETURNING *`;

/** Takes one snapshot now. */
export async function insertHealthSnapshot(pool: Pool): Promise<HealthSnapshot> {
  const lag = await readProcessingLag(pool);
  const { rows } = await pool.query(INSERT_SNAPSHOT_SQL, [lag.seconds]);
  const r = rows[0];
  return {
    takenAt: r.taken_at,
    bundlesReceived: r.bundles_received,
    bundlesAdded: r.bundles_added,
    bundlesPending: r.bundles_pending,
    bundlesErrored: r.bundles_errored,
    pointsTotal: r.points_total,
    pointsAdded: r.points_added,
    processingLagSeconds: r.processing_lag_seconds,
  };
}

/** Deletes snapshots older than SNAPSHOT_DAYS. Returns how many. */
export async function pruneHealthSnapshots(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM server_health_snapshots WHERE taken_at < now() - make_interval(days => $1)`, [SNAPSHOT_DAYS]);
  return rowCount ?? 0;
}

export const serverHealthJob: JobDefinition = {
  name: 'server-health',
  description: 'Records a server health snapshot (bundles, queue, points, processing lag) for the system-health page; folds the bundle counters.',
  schedule: { everyMinutes: 15 },
  async run({ pool }) {
    const bundleCountsFolded = await foldBundleCounts(pool);
    const snapshot = await insertHealthSnapshot(pool);
    const pruned = await pruneHealthSnapshots(pool);
    return {
      bundlesReceived: snapshot.bundlesReceived,
      bundlesAdded: snapshot.bundlesAdded,
      bundlesPending: snapshot.bundlesPending,
      bundlesErrored: snapshot.bundlesErrored,
      pointsTotal: snapshot.pointsTotal,
      pointsAdded: snapshot.pointsAdded,
      processingLagSeconds: snapshot.processingLagSeconds,
      pruned,
      bundleCountsFolded,
    };
  },
};
