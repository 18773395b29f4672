/**
 * Monthly range partitions (migrations 0032 and 0034, docs/partitions.md): premaking the months
 * ahead, of data_points (by `created`) and of bundles (by `received_at`), the same UTC months.
 * Which months exist is decided by the clock and the catalog, never by row values, so a point
 * dated year 52217 creates nothing (pg_partman #316): it waits in `<table>_default`.
 *
 * A month is made without blocking writers: the new table is created on its own, the month's
 * rows (if any) are moved into it from the DEFAULT partition (PostgreSQL refuses a partition
 * whose rows are in DEFAULT: pg_partman #707), and ATTACH takes only a SHARE UPDATE EXCLUSIVE
 * lock on the parent (plus an exclusive one on DEFAULT, which holds only future dates, few rows).
 */
import type pg from 'pg';

/** Months premade beyond the current one. */
export const MONTHS_AHEAD = 12;

/**
 * The tables partitioned by month, and their partition keys. bundles has no DEFAULT partition
 * (received_at is this server's clock, premade ahead by the same clock: migration 0034).
 */
const MONTHLY_PARTITIONED = [
  { table: 'data_points', column: 'created' },
  { table: 'bundles', column: 'received_at' },
] as const;

export interface PremakeResult {
  /** partitions created, oldest first */
  created: string[];
  /** rows moved out of the DEFAULT partition into them */
  movedFromDefault: number;
}

interface Partition {
  name: string;
  /** upper bound of a range partition (null: DEFAULT, or MAXVALUE) */
  upper: Date | null;
  isDefault: boolean;
  reloptions: string[] | null;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
}

/** The first instant of the UTC month `offset` months after `at`'s. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

/** `data_points_p2027_01` for January 2027. */
export function monthPartitionName(table: string, month: Date): string {
  return `${table}_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The partitions of `table` with their bounds; empty when it is not (yet) partitioned. */
export async function listPartitions(db: pg.ClientBase | pg.Pool, table: string): Promise<Partition[]> {
  const { rows } = await db.query<{ name: string; upper: Date | null; is_default: boolean; reloptions: string[] | null }>(
    `SELECT c.relname AS name, c.reloptions,
            pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
            substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)')::timestamptz AS upper
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1) AND c.relkind IN ('r', 'p')
     ORDER BY upper NULLS FIRST`,
    [identifier(table)],
  );
  return rows.map((r) => ({ name: r.name, upper: r.upper, isDefault: r.is_default, reloptions: r.reloptions }));
}

/**
 * Makes the monthly partitions of `table` (partitioned by range of `column`) that are missing
 * from the end of the highest existing one (or the current month, when there is none) up to
 * `monthsAhead` months after the month of `now`. Run it in a transaction: each month is created, filled from DEFAULT
 * and attached in it. A new partition takes the storage parameters of the newest one.
 */
export async function premakeMonthlyPartitions(
  db: pg.ClientBase,
  table: string,
  column: string,
  options: { now?: Date; monthsAhead?: number } = {},
): Promise<PremakeResult> {
  const now = options.now ?? new Date();
  const partitions = await listPartitions(db, table);
  const result: PremakeResult = { created: [], movedFromDefault: 0 };
  if (partitions.length === 0) return result;
  const fallback = partitions.find((p) => p.isDefault);
  const ranged = partitions.filter((p) => p.upper !== null);
  const newest = ranged.at(-1);
  const horizon = monthStart(now, (options.monthsAhead ?? MONTHS_AHEAD) + 1);
  // From where the partitions end (a server stopped for months fills the gap, so late points for
  // those months do not end up in DEFAULT), or from the current month.
  let month = newest?.upper ? monthStart(newest.upper) : monthStart(now);
  // A highest bound inside a month (made by hand) starts the next whole month.
  if (newest?.upper && month < newest.upper) month = monthStart(month, 1);
  const t = identifier(table);
  const c = identifier(column);
  const options_ = newest?.reloptions?.length ? ` WITH (${newest.reloptions.join(', ')})` : '';
  for (; month < horizon; month = monthStart(month, 1)) {
    const name = monthPartitionName(t, month);
    const from = month.toISOString();
    const to = monthStart(month, 1).toISOString();
    await db.query(`CREATE TABLE ${name} (LIKE ${t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)${options_}`);
    if (fallback) {
      // From here to the commit no row reaches DEFAULT (writers wait; readers do not): one committed
      // between the move and the ATTACH would make PostgreSQL refuse the ATTACH.
      await db.query(`LOCK TABLE ${identifier(fallback.name)} IN SHARE ROW EXCLUSIVE MODE`);
      const moved = await db.query(
        `WITH moved AS (DELETE FROM ${identifier(fallback.name)} WHERE ${c} >= $1 AND ${c} < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`,
        [from, to],
      );
      result.movedFromDefault += moved.rowCount ?? 0;
    }
    // The CHECK spares ATTACH its own scan of the new table (whatever it received from DEFAULT).
    await db.query(`ALTER TABLE ${name} ADD CONSTRAINT ${name}_bound CHECK (${c} >= '${from}' AND ${c} < '${to}')`);
    await db.query(`ALTER TABLE ${t} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
    await db.query(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_bound`);
    result.created.push(name);
  }
  return result;
}

/**
 * premakeMonthlyPartitions for every table of MONTHLY_PARTITIONED (those not partitioned yet, such
 * as data_points before migration 0009's step is complete, make nothing), in the caller's transaction.
 */
export async function premakeAllMonthlyPartitions(db: pg.ClientBase, options: { now?: Date; monthsAhead?: number } = {}): Promise<Map<string, PremakeResult>> {
  const results = new Map<string, PremakeResult>();
  for (const { table, column } of MONTHLY_PARTITIONED) results.set(table, await premakeMonthlyPartitions(db, table, column, options));
  return results;
}

/** Rows in `table`'s DEFAULT partition (points dated past the premade months); 0 without one. */
export async function defaultPartitionRows(db: pg.ClientBase | pg.Pool, table: string): Promise<number> {
  const fallback = (await listPartitions(db, table)).find((p) => p.isDefault);
  if (!fallback) return 0;
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${identifier(fallback.name)}`);
  return Number(rows[0].n);
}
