/** archived_partitions (migration 0033) and the catalog facts the archive needs. */
import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface ArchivedPartition {
  partition: string;
  parent: string;
  /** null: MINVALUE (the history partition) */
  rangeFrom: Date | null;
  rangeTo: Date;
  state: 'detached' | 'archived' | 'restored';
  location: string | null;
  manifestKey: string | null;
  rows: number | null;
  bytes: number | null;
  detachedAt: Date;
  archivedAt: Date | null;
  restoredAt: Date | null;
}

const COLUMNS = `partition, parent, range_from AS "rangeFrom", range_to AS "rangeTo", state, location, manifest_key AS "manifestKey",
  rows, bytes, detached_at AS "detachedAt", archived_at AS "archivedAt", restored_at AS "restoredAt"`;

export async function listArchivedPartitions(db: Db): Promise<ArchivedPartition[]> {
  return (await db.query<ArchivedPartition>(`SELECT ${COLUMNS} FROM archived_partitions ORDER BY parent, range_to`)).rows;
}

export async function getArchivedPartition(db: Db, partition: string): Promise<ArchivedPartition | undefined> {
  return (await db.query<ArchivedPartition>(`SELECT ${COLUMNS} FROM archived_partitions WHERE partition = $1`, [partition])).rows[0];
}

/** The archived (not restored, not empty) partitions of `parent` whose range meets [from, to). */
export async function archivedWithin(db: Db, parent: string, from: Date | null, to: Date | null): Promise<ArchivedPartition[]> {
  return (await db.query<ArchivedPartition>(
    `SELECT ${COLUMNS} FROM archived_partitions
     WHERE parent = $1 AND state <> 'restored' AND coalesce(rows, 1) > 0 AND ($3::timestamptz IS NULL OR range_from IS NULL OR range_from < $3) AND ($2::timestamptz IS NULL OR range_to > $2)
     ORDER BY range_to`,
    [parent, from, to],
  )).rows;
}

export async function recordDetached(db: Db, p: { partition: string; parent: string; rangeFrom: Date | null; rangeTo: Date }): Promise<void> {
  await db.query(
    `INSERT INTO archived_partitions (partition, parent, range_from, range_to, state) VALUES ($1, $2, $3, $4, 'detached')
     ON CONFLICT (partition) DO UPDATE SET state = 'detached', detached_at = now(), archived_at = NULL, restored_at = NULL`,
    [p.partition, p.parent, p.rangeFrom, p.rangeTo],
  );
}

export async function recordArchived(db: Db, partition: string, a: { location: string; manifestKey: string; rows: number; bytes: number }): Promise<void> {
  await db.query(
    `UPDATE archived_partitions SET state = 'archived', location = $2, manifest_key = $3, rows = $4, bytes = $5, archived_at = now() WHERE partition = $1`,
    [partition, a.location, a.manifestKey, a.rows, a.bytes],
  );
}

export async function recordRestored(db: Db, partition: string): Promise<void> {
  await db.query(`UPDATE archived_partitions SET state = 'restored', restored_at = now() WHERE partition = $1`, [partition]);
}

export interface PartitionRange {
  name: string;
  /** null: MINVALUE */
  from: Date | null;
  /** null: MAXVALUE or DEFAULT */
  to: Date | null;
  isDefault: boolean;
}

/** The partitions attached to `parent`, with both bounds (PostgreSQL's own text of them). */
export async function partitionRanges(db: Db, parent: string): Promise<PartitionRange[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)`,
    [parent],
  );
  return rows.map(({ name, bound }) => {
    const range = /^FOR VALUES FROM \((MINVALUE|'[^']+')\) TO \((MAXVALUE|'[^']+')\)$/.exec(bound);
    // '2027-01-01 00:00:00+00' (in the session's TimeZone) as ISO 8601, which Date reads everywhere
    const time = (text: string | undefined) => (text && text.startsWith("'") ? new Date(text.slice(1, -1).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')) : null);
    return { name, from: time(range?.[1]), to: time(range?.[2]), isDefault: bound === 'DEFAULT' };
  }).sort((a, b) => (a.to?.getTime() ?? Infinity) - (b.to?.getTime() ?? Infinity));
}

/** The columns of `table`'s primary key or first unique constraint (to refuse duplicate rows on restore). */
export async function uniqueKeyColumns(db: Db, table: string): Promise<string[]> {
  const { rows } = await db.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
     FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
     WHERE c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u')
     GROUP BY c.oid, c.contype ORDER BY c.contype, c.oid LIMIT 1`,
    [table],
  );
  return rows[0]?.columns ?? [];
}

/** The number of 8 KB blocks of `table` (a TID-range scan reads it block range by block range). */
export async function tableBlocks(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ blocks: string }>(`SELECT (pg_relation_size(to_regclass($1)) / current_setting('block_size')::int)::text AS blocks`, [table]);
  return Number(rows[0].blocks);
}

export async function countRows(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(table)}`);
  return Number(rows[0].n);
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
