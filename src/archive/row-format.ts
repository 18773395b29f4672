/**
 * How a table's rows become Parquet columns in an archive, and come back as PostgreSQL's text
 * input (COPY). Typed where an analyst gains from it (times as UTC microseconds, numbers,
 * booleans); everything else as PostgreSQL prints it (jsonb, arrays, uuid), and bytea as hex.
 * Every value goes through PostgreSQL's own text form, so a restore gives back the same bytes.
 */
import type pg from 'pg';
import type { ParquetColumn, ParquetColumnType } from '../exports/parquet-writer.ts';
import { quoteIdent } from './archive.repository.ts';

export interface ArchiveColumn extends ParquetColumn {
  /** the SQL type (format_type) */
  sqlType: string;
  /** the expression that reads it as text for the Parquet cell */
  select: string;
}

function columnFor(name: string, sqlType: string): ArchiveColumn {
  const c = quoteIdent(name);
  const is = (type: ParquetColumnType, select: string): ArchiveColumn => ({ name, type, sqlType, select });
  switch (sqlType) {
    case 'bigint':
    case 'integer':
    case 'smallint':
      return is('int', `${c}::text`);
    case 'double precision':
    case 'real':
      return is('double', `${c}::text`);
    case 'boolean':
      return is('bool', c);
    case 'timestamp with time zone':
      // Microseconds since the epoch as text: int8 values past 2^53 (year 2255 on) stay exact.
      return is('time', `(extract(epoch FROM ${c}) * 1000000)::int8::text`);
    case 'bytea':
      return is('string', `encode(${c}, 'hex')`);
    default:
      return is('string', `${c}::text`);
  }
}

/** The columns of `table` in their order, as the archive stores them. */
export async function archiveColumns(db: pg.Pool | pg.ClientBase, table: string): Promise<ArchiveColumn[]> {
  const { rows } = await db.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return rows.map((r) => columnFor(r.name, r.type));
}

/** A row read with the columns' `select` expressions, as the Parquet writer takes it. */
export function parquetCells(columns: readonly ArchiveColumn[], row: unknown[]): unknown[] {
  return row.map((value, i) => (value !== null && columns[i].type === 'time' ? BigInt(value as string) : value));
}

function isoMicros(micros: bigint): string {
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  const fraction = String(micros - seconds * 1_000_000n).padStart(6, '0');
  const date = new Date(Number(seconds) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const year = date.getUTCFullYear();
  // PostgreSQL reads years past 9999 as written, and years before 1 as "N BC".
  const yearText = year > 0 ? String(year).padStart(4, '0') : String(1 - year).padStart(4, '0');
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.${fraction}+00`;
  return `${yearText}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ${time}${year > 0 ? '' : ' BC'}`;
}

function copyEscape(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
}

/** One COPY text line for a row read back from Parquet (hyparquet's values). */
export function copyLine(columns: readonly ArchiveColumn[], values: readonly unknown[]): string {
  return `${values.map((value, i) => {
    if (value === null || value === undefined) return '\\N';
    const column = columns[i];
    switch (column.type) {
      case 'time':
        return isoMicros(typeof value === 'bigint' ? value : value instanceof Date ? BigInt(value.getTime()) * 1000n : BigInt(value as number));
      case 'bool':
        return value ? 't' : 'f';
      case 'int':
      case 'double':
        return String(value);
      default:
        return copyEscape(column.sqlType === 'bytea' ? `\\x${value as string}` : (value as string));
    }
  }).join('\t')}\n`;
}
