/**
 * The job `partitions` (issue 22 M2, docs/partitions.md), daily:
 * - premakes the months of data_points and of bundles up to 12 ahead, by the clock, never by the
 *   dates points carry (db/partitions.ts);
 * - counts the points in the DEFAULT partition (dated past the premade months, or late for an
 *   archived month) and warns when there are any: they are stored and exported, but worth a look;
 * - freezes the closed months once (VACUUM FREEZE), so that they are never rewritten by an
 *   anti-wraparound vacuum later;
 * - with ARCHIVE_AFTER_MONTHS, archives each month that ended that many months ago (and the
 *   history partition once all of it is that old): detach, Parquet to ARCHIVE_DIR or
 *   ARCHIVE_S3_BUCKET, verify, drop (archive-partition.ts). A month detached by a run that
 *   stopped is archived by the next.
 */
import { defaultPartitionRows, monthStart, premakeAllMonthlyPartitions } from '../db/partitions.ts';
import { withTransaction } from '../db/transaction.ts';
import type { JobContext, JobCounts, JobDefinition } from '../job-contract.ts';
import { archiveDetached, detachPartition } from './archive-partition.ts';
import { listArchivedPartitions, partitionRanges, quoteIdent } from './archive.repository.ts';
import { configuredArchiveStore } from './archive-store.ts';

const PARENT = 'data_points';
/** A closed month is frozen when its oldest unfrozen transaction id is this old (a cheap pass after the first). */
const FREEZE_AFTER_XIDS = 10_000_000;

export const partitionsJob: JobDefinition = {
  name: 'partitions',
  description: 'Premakes the months of data_points and bundles ahead, watches the DEFAULT partition of data_points, freezes closed months, archives months older than ARCHIVE_AFTER_MONTHS',
  schedule: { dailyAt: () => '03:15' },
  // pg-boss caps a run at 24 hours; archiving a month of a large study takes hours.
  timeoutMinutes: 12 * 60,
  run: (ctx) => maintainPartitions(ctx, new Date()),
};

/**
 * What the job does, with the clock given: `now` decides which months are premade and archived.
 * `freezeAfterXids` lowers the freeze threshold (a test freezes months that are seconds old).
 */
export async function maintainPartitions({ pool, config, log }: JobContext, now: Date, { freezeAfterXids = FREEZE_AFTER_XIDS } = {}): Promise<JobCounts> {
  const premade = [...(await withTransaction(pool, (tx) => premakeAllMonthlyPartitions(tx, { now }))).values()];
  const defaultRows = await defaultPartitionRows(pool, PARENT);
  if (defaultRows > 0) {
    log.warn({ rows: defaultRows }, `${defaultRows} point(s) in ${PARENT}_default: dated past the premade months or late for an archived month (docs/partitions.md)`);
  }

  const current = monthStart(now);
  let frozen = 0;
  for (const partition of await partitionRanges(pool, PARENT)) {
    if (partition.isDefault || !partition.to || partition.to > current) continue;
    const { rows } = await pool.query<{ age: number }>(`SELECT age(relfrozenxid) AS age FROM pg_class WHERE oid = to_regclass($1)`, [partition.name]);
    if ((rows[0]?.age ?? 0) < freezeAfterXids) continue;
    await pool.query(`VACUUM (FREEZE) ${quoteIdent(partition.name)}`);
    frozen += 1;
  }

  let archived = 0;
  let archivedRows = 0;
  const store = configuredArchiveStore(config);
  if (config.archiveAfterMonths !== undefined && store) {
    const cutoff = monthStart(now, -config.archiveAfterMonths);
    for (const partition of await partitionRanges(pool, PARENT)) {
      if (partition.isDefault || !partition.to || partition.to > cutoff) continue;
      if (!(await detachPartition(pool, PARENT, partition))) {
        log.warn(`could not detach ${partition.name} within the lock timeout (queries kept it busy); the next run tries again`);
      }
    }
    for (const waiting of (await listArchivedPartitions(pool)).filter((p) => p.state === 'detached')) {
      const manifest = await archiveDetached({ pool, store, log }, waiting.partition);
      archived += 1;
      archivedRows += manifest.rows;
    }
  }
  return {
    premade: premade.reduce((n, made) => n + made.created.length, 0), movedFromDefault: premade.reduce((n, made) => n + made.movedFromDefault, 0),
    defaultRows, frozen, archived, archivedRows,
  };
}
