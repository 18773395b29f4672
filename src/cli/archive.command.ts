/**
 * `dcs archive list|run|restore` (docs/partitions.md): the months of data_points archived as
 * Parquet, archiving now (the job `partitions`, under its lock), and bringing a month back.
 */
import { restorePartition } from '../archive/restore-partition.ts';
import { listArchivedPartitions, partitionRanges } from '../archive/archive.repository.ts';
import { configuredArchiveStore } from '../archive/archive-store.ts';
import { partitionsJob } from '../archive/partitions.job.ts';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { runJob } from '../jobs/run-job.ts';
import type { Logger } from '../log.ts';

export const ARCHIVE_USAGE = `  archive list              data_points' partitions: each month's rows, and the months archived (where, rows, state)
  archive run               premake, freeze and archive now, as the daily job \`partitions\` does (ARCHIVE_AFTER_MONTHS)
  archive restore MONTH     bring an archived month (YYYY-MM, or a partition's name) back from its Parquet files`;

interface Context {
  pool: Pool;
  config: Config;
  log: Logger;
}

const month = (at: Date | null) => (at ? at.toISOString().slice(0, 7) : '…');

export async function archiveCommand(ctx: Context, args: string[]): Promise<number> {
  const [verb, target] = args;
  if (verb === 'list' && args.length === 1) {
    const { rows } = await ctx.pool.query<{ name: string; n: string }>(`SELECT tableoid::regclass::text AS name, count(*)::text AS n FROM data_points GROUP BY 1`);
    const counts = new Map(rows.map((r) => [r.name, Number(r.n)]));
    console.log('attached:');
    for (const p of await partitionRanges(ctx.pool, 'data_points')) {
      const range = p.isDefault ? 'DEFAULT (dated past the premade months, or late for an archived month)' : `${month(p.from)} to ${month(p.to)} (exclusive)`;
      console.log(`  ${p.name.padEnd(28)} ${String(counts.get(p.name) ?? 0).padStart(12)} points  ${range}`);
    }
    const archived = await listArchivedPartitions(ctx.pool);
    console.log(archived.length ? 'archived:' : 'archived: none');
    for (const a of archived) {
      const where = a.location ? `${a.location}/${a.manifestKey}` : 'not written yet';
      console.log(`  ${a.partition.padEnd(28)} ${String(a.rows ?? '-').padStart(12)} points  ${month(a.rangeFrom)} to ${month(a.rangeTo)}  ${a.state}  ${where}`);
    }
    return 0;
  }
  if (verb === 'run' && args.length === 1) {
    const result = await runJob(ctx, partitionsJob, 'cli');
    if (result.outcome === 'succeeded') {
      console.log(JSON.stringify(result.counts));
      return 0;
    }
    console.error(result.outcome === 'failed' ? `failed: ${result.error.message}` : 'the job `partitions` is running in another process right now; not started again.');
    return 1;
  }
  if (verb === 'restore' && args.length === 2) {
    const store = configuredArchiveStore(ctx.config);
    if (!store) throw new Error('No archive store: set ARCHIVE_DIR or ARCHIVE_S3_BUCKET (where the months were archived).');
    const archived = await listArchivedPartitions(ctx.pool);
    const chosen = archived.find((a) => a.partition === target)
      ?? (/^\d{4}-\d{2}$/.test(target) ? archived.find((a) => a.state === 'archived' && (a.rangeFrom === null || month(a.rangeFrom) <= target) && month(a.rangeTo) > target) : undefined);
    if (!chosen) throw new Error(`No archived month ${target} (dcs archive list shows them).`);
    const result = await restorePartition({ pool: ctx.pool, store, log: ctx.log }, chosen.partition);
    console.log(`restored ${result.partition}: ${result.rows} points from ${store.name}; ${result.movedFromDefault} that had arrived since moved in from data_points_default`);
    return 0;
  }
  console.error(`Usage:\n${ARCHIVE_USAGE}`);
  return 1;
}
