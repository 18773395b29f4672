/**
 * Erasure of a withdrawn participant and re-admission (docs/data-quality.md, "Erasure"), the same
 * for `dcs sources erase|readmit` and the source page's admin actions.
 *
 * Order matters, so that nothing of the source survives an upload or a processing batch running
 * at the same time:
 * 1. the identifier goes on the erased list, committed: from then on ingest's insert stores
 *    nothing of it (the check is in the same statement) and processing drops its points;
 * 2. uploads already being inserted are waited for (a brief SHARE lock on bundles);
 * 3. one transaction holds processing off (data_points locked against writers, running batches
 *    waited for), locks the source's bundles, deletes table by table and writes the audit entry.
 * If step 3 fails, the identifier stays on the list and nothing is deleted: erasing again
 * finishes the job (every step is idempotent).
 */
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import {
  addToErasedList, auditOf, backupsWritten, findErased, deleteBundles, deletePointsOf, deleteSourceRows, detachMixedBundles, holdProcessing, lockBundlesOf,
  recordAudit, removeFromErasedList, waitForUploadsInFlight, type AuditRow, type BackupBefore, type ErasedSource,
} from './erasure.repository.ts';

export type { AuditRow, ErasedSource };

export interface ErasureReport {
  identifier: string;
  auditId: number;
  doneAt: Date;
  /** rows deleted per table (bundles_detached: mixed bundles kept without the source) */
  counts: Record<string, number>;
  /** bundles kept because other participants' points are in them */
  mixedBundles: number[];
  /** backups written before the erasure: they still hold the source's data */
  backupsBefore: BackupBefore[];
}

/** Erases everything of `identifier` and keeps it out from now on; `by` is who asked (audit). */
export async function eraseSource(pool: Pool, identifier: string, by: string): Promise<ErasureReport> {
  await withTransaction(pool, (client) => addToErasedList(client, identifier, by));
  await withTransaction(pool, (client) => waitForUploadsInFlight(client));
  return withTransaction(pool, async (client) => {
    await holdProcessing(client);
    const bundles = await lockBundlesOf(client, identifier);
    const counts: Record<string, number> = {
      ...(await deletePointsOf(client, identifier)),
      ...(await deleteBundles(client, bundles.own)),
      bundles_detached: await detachMixedBundles(client, identifier, bundles.mixed),
      ...(await deleteSourceRows(client, identifier)),
    };
    const backupsBefore = await backupsWritten(client);
    const mixedBundles = bundles.mixed.map((b) => b.id);
    const audit = await recordAudit(client, { identifier, action: 'erase', doneBy: by, counts, mixedBundles, backupsBefore });
    return { identifier, auditId: audit.id, doneAt: audit.doneAt, counts, mixedBundles, backupsBefore };
  });
}

/** Takes `identifier` off the erased list (audited); false when it was not on it. */
export async function readmitSource(pool: Pool, identifier: string, by: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    if (!(await removeFromErasedList(client, identifier))) return false;
    await recordAudit(client, { identifier, action: 'readmit', doneBy: by });
    return true;
  });
}

/** Whether `identifier` is erased now, and its audit entries (the source page of an erased identifier). */
export async function erasureStatus(pool: Pool, identifier: string): Promise<{ erased: ErasedSource | undefined; audit: AuditRow[] }> {
  const client = await pool.connect();
  try {
    return { erased: await findErased(client, identifier), audit: await auditOf(client, identifier) };
  } finally {
    client.release();
  }
}
