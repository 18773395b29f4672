/**
 * Rows in the DEFAULT partition of data_points (docs/partitions.md, "Points in DEFAULT"): points
 * dated past the premade months (a client clock far off) or late for an archived month. They are
 * stored and exported, but a healthy study has few or none, so any row there is a server alert:
 * /metrics exports the count (dcs_partition_default_rows), System health shows who and when, and
 * the alert digest e-mails it, as for backups (backup/backup-status.ts).
 *
 * DEFAULT is small by design, but it is read on every scrape and page view: at most
 * COUNT_LIMIT + 1 of its rows are read, whatever it holds.
 */
import type { Pool } from '../db/database.ts';
import { listPartitions } from '../db/partitions.ts';
import { quoteText } from './plain-text.ts';

/** The partitioned tables whose DEFAULT partition is watched. */
export const WATCHED_TABLES = ['data_points'] as const;
/** Rows read at most: a count of COUNT_LIMIT + 1 means "more than COUNT_LIMIT". */
export const COUNT_LIMIT = 100_000;
/** Sources named in the alert, the ones with the most rows first. */
export const SOURCES_SHOWN = 10;

export interface DatedRows {
  rows: number;
  /** the oldest and newest `created` among them */
  from: Date;
  to: Date;
}

export interface DefaultPartitionRows {
  table: string;
  /** the DEFAULT partition's name; null when the table has none (not partitioned) */
  partition: string | null;
  /** rows counted, at most COUNT_LIMIT + 1 */
  rows: number;
  /** where the premade months end: rows dated from then on are "future", earlier ones "late" */
  premadeUntil: Date | null;
  /** dated past the premade months */
  future: DatedRows | null;
  /** dated inside the premade range: late for a month that was archived (detached) */
  late: DatedRows | null;
  /** how many sources the rows (read) come from, and the SOURCES_SHOWN with the most */
  sourceCount: number;
  sources: ({ source: string } & DatedRows)[];
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The DEFAULT partition of `table`, if any, and where its premade months end. */
async function defaultPartitionOf(pool: Pool, table: string): Promise<{ partition: string | null; premadeUntil: Date | null }> {
  const partitions = await listPartitions(pool, table);
  const ends = partitions.flatMap((p) => (p.upper ? [p.upper.getTime()] : []));
  return { partition: partitions.find((p) => p.isDefault)?.name ?? null, premadeUntil: ends.length > 0 ? new Date(Math.max(...ends)) : null };
}

/** The bounded count of each watched table's DEFAULT partition (for /metrics). */
export async function countDefaultPartitionRows(pool: Pool, tables: readonly string[] = WATCHED_TABLES): Promise<{ table: string; rows: number }[]> {
  return Promise.all(tables.map(async (table) => {
    const { partition } = await defaultPartitionOf(pool, table);
    if (!partition) return { table, rows: 0 };
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${quoteIdentifier(partition)} LIMIT $1) s`, [COUNT_LIMIT + 1]);
    return { table, rows: rows[0].n };
  }));
}

interface DatedRow { rows: number; from: Date; to: Date }

/** What data_points' DEFAULT partition holds: how many rows, dated when, of which sources. */
export async function readDefaultPartition(pool: Pool, table: string = WATCHED_TABLES[0]): Promise<DefaultPartitionRows> {
  const { partition, premadeUntil } = await defaultPartitionOf(pool, table);
  const empty: DefaultPartitionRows = { table, partition, rows: 0, premadeUntil, future: null, late: null, sourceCount: 0, sources: [] };
  if (!partition) return empty;
  const { rows: [r] } = await pool.query<{ rows: number; future: DatedRow | null; late: DatedRow | null; source_count: number; sources: ({ source: string } & DatedRow)[] | null }>(
    `WITH sample AS MATERIALIZED (SELECT source, created FROM ${quoteIdentifier(partition)} LIMIT $1),
     dated AS (SELECT created >= coalesce($2::timestamptz, '-infinity') AS future, count(*)::int AS rows, min(created) AS "from", max(created) AS "to" FROM sample GROUP BY 1)
     SELECT (SELECT count(*)::int FROM sample) AS rows,
            (SELECT to_jsonb(d) - 'future' FROM dated d WHERE d.future) AS future,
            (SELECT to_jsonb(d) - 'future' FROM dated d WHERE NOT d.future) AS late,
            (SELECT count(DISTINCT source)::int FROM sample) AS source_count,
            (SELECT jsonb_agg(s) FROM (SELECT source, count(*)::int AS rows, min(created) AS "from", max(created) AS "to"
                                       FROM sample GROUP BY source ORDER BY count(*) DESC, source LIMIT $3) s) AS sources`,
    [COUNT_LIMIT + 1, premadeUntil, SOURCES_SHOWN],
  );
  const dates = <T extends DatedRow>(d: T): T => ({ ...d, from: new Date(d.from), to: new Date(d.to) });
  return {
    ...empty,
    rows: r.rows,
    future: r.future && dates(r.future),
    late: r.late && dates(r.late),
    sourceCount: r.source_count,
    sources: (r.sources ?? []).map(dates),
  };
}

export interface DefaultPartitionStatus {
  alert: boolean;
  /** one paragraph, plain text (source identifiers quoted and escaped: it goes into e-mail) */
  message: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const span = (d: DatedRow) => (day(d.from) === day(d.to) ? day(d.from) : `${day(d.from)} to ${day(d.to)}`);
const points = (n: number) => `${n} point${n === 1 ? '' : 's'}`;

/** The alert, or the all-clear, for what readDefaultPartition found. */
export function describeDefaultPartition(found: DefaultPartitionRows): DefaultPartitionStatus {
  const where = found.partition ?? `${found.table}_default`;
  if (found.rows === 0) return { alert: false, message: `No point waits in ${where}: every point is in the partition of its month.` };
  const count = found.rows > COUNT_LIMIT ? `More than ${COUNT_LIMIT} points` : points(found.rows);
  const kinds = [
    found.future && `${points(found.future.rows)} dated past the premade months (${span(found.future)}, UTC)`,
    found.late && `${points(found.late.rows)} late for an archived month (${span(found.late)}, UTC)`,
  ].filter(Boolean).join('; ');
  const sources = found.sources.map((s) => `${quoteText(s.source, 100)} (${points(s.rows)}, ${span(s)})`).join(', ');
  const more = found.sourceCount > found.sources.length ? `, and ${found.sourceCount - found.sources.length} more` : '';
  const todo = [
    found.future && 'A point dated past the premade months is a client clock far off (or a test): look at its source, and erase the source if it is not a participant; otherwise leave it, it is kept and exported, and moves into its month once that month is premade.',
    found.late && 'A point late for an archived month is exported from DEFAULT; `dcs archive restore MONTH` brings the month back with it, and the next archive run archives them together.',
  ].filter(Boolean).join(' ');
  return {
    alert: true,
    message: `${count} in ${where} (the DEFAULT partition): ${kinds}. ${found.sourceCount === 1 ? 'Source' : `From ${found.sourceCount} sources`}: ${sources}${more}. ${todo} See docs/partitions.md, "Points in DEFAULT".`,
  };
}
