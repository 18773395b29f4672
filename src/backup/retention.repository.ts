/** The queries of bundle retention (bundle-retention.job.ts, BUNDLE_RETENTION_DAYS). */
import type { PoolClient } from '../db/database.ts';

/**
 * Deletes up to `limit` processed bundles received `days` days ago or more, oldest first, inside
 * the caller's transaction; returns how many. Left alone: bundles with uploaded files (the points
 * link to those files), errored and pending ones, those another transaction holds (processing,
 * an erasure), and, when `onlyBackedUp`, those still in backup_queue (in no backup yet). Without
 * backups, the queue rows of the dropped bundles go with them. Still a DELETE, not a drop of whole
 * partitions: bundles with files, and those not backed up yet, stay, so a month is rarely empty.
 */
export async function dropOldBundles(client: PoolClient, days: number, onlyBackedUp: boolean, limit: number): Promise<number> {
  const { rows } = await client.query(
    `WITH old AS (
       SELECT b.received_at, b.id FROM bundles b
        WHERE b.received_at < now() - make_interval(days => $1::int) AND b.status = 'processed'
          AND NOT EXISTS (SELECT 1 FROM bundle_files f WHERE f.bundle_id = b.id AND f.bundle_received_at = b.received_at)
          AND NOT ($2::boolean AND EXISTS (SELECT 1 FROM backup_queue q WHERE q.bundle_id = b.id))
        ORDER BY b.received_at LIMIT $3 FOR UPDATE SKIP LOCKED
     ), unqueued AS (
       DELETE FROM backup_queue q USING old WHERE q.bundle_id = old.id
     )
     DELETE FROM bundles b USING old WHERE b.received_at = old.received_at AND b.id = old.id RETURNING b.id`,
    [days, onlyBackedUp, limit],
  );
  return rows.length;
}
