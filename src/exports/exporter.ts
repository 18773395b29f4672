/**
 * What an exporter is: which data types feed it, how a point becomes rows, and its columns, each
 * with a header, a type (for Parquet) and a description (for the archive's README.txt). The
 * files under columns/ declare one exporter each; the writers (tsv, parquet) know nothing about
 * data types.
 */
import type { ParquetColumnType } from './parquet-writer.ts';
import type { ExportPoint } from './export-point.ts';
import { Utf8Text } from './utf8-text.ts';
import { isoInZone } from './zoned-time.ts';

/** An instant and the zone it is shown in: ISO text in a TSV, a UTC timestamp in Parquet. */
export class ZonedTime {
  constructor(readonly micros: number, readonly zone: string) {}
}

/** A column's value as a writer takes it: times as ISO text for TSV, as UTC microseconds for Parquet. */
export function writerValue(value: unknown, format: 'tsv' | 'parquet'): unknown {
  // the TSV writer copies text's bytes as they are; Parquet takes strings
  if (value instanceof Utf8Text) return format === 'parquet' ? value.toString() : value;
  if (!(value instanceof ZonedTime)) return value;
  return format === 'parquet' ? value.micros : isoInZone(value.micros, value.zone);
}

export interface ExportRow<Item = undefined> {
  point: ExportPoint;
  item: Item;
}

export interface Column<Item = undefined> {
  header: string;
  type: ParquetColumnType;
  about: string;
  value(row: ExportRow<Item>): unknown;
  /**
   * The point's top-level keys `value` reads (none for a column of the row's item or the point's
   * own fields; its time zone and generated-key always come), so PostgreSQL sends only those;
   * undefined: the whole point.
   */
  reads?: readonly string[];
  /**
   * `value` takes the string values of the keys it reads as Utf8Text (their bytes as sent) and
   * returns them as they are or through helpers that take Utf8Text (removeLineBreaks,
   * ExportPoint.sensitive), so they need not be decoded.
   */
  readsText?: boolean;
}

export interface Exporter<Item = undefined> {
  /** The data type chosen in a request (a generator id, or a virtual one such as webmunk-visibility-export). */
  id: string;
  label: string;
  /** The generator ids whose points it reads. */
  generators: readonly string[];
  /** single: `<id>.txt` at the archive root; per-source: `<id>/<source>.txt` (pdk-server.md §7.4). */
  layout: 'single' | 'per-source';
  /** One line for README.txt, e.g. "one row per order item". */
  rowsAre: string;
  /** Rows per source oldest first by `created` (as pdk-external-amazon-item's original); left out: newest first by the date column. */
  order?: 'created-ascending';
  rows(point: ExportPoint): Iterable<ExportRow<Item>>;
  /** What README.txt counts: points (the default), or products. */
  unit?: string;
  /** The point's top-level keys `rows` reads (with onePerPoint: none); undefined: the whole point. */
  rowReads?: readonly string[];
  columns: readonly Column<Item>[];
}

/**
 * The point's top-level keys an exporter reads, or undefined when it reads the whole point. Only
 * these are sent: PostgreSQL writes no JSON for the rest (an element-click's whole page, a
 * point's metadata), and this process parses none.
 */
export function keysRead(exporter: AnyExporter): string[] | undefined {
  const keys = new Set<string>();
  const rowReads = exporter.rows === onePerPoint ? [] : exporter.rowReads;
  if (!rowReads) return undefined;
  for (const key of rowReads) keys.add(key);
  for (const column of exporter.columns as readonly Column<unknown>[]) {
    if (!column.reads) return undefined;
    for (const key of column.reads) keys.add(key);
  }
  return [...keys];
}

/**
 * The keys whose string values may reach the exporter as Utf8Text: read only by columns that
 * take text as bytes (never by `rows`, nor by any other column).
 */
export function textKeysRead(exporter: AnyExporter): string[] {
  const text = new Set<string>();
  const other = new Set<string>(exporter.rows === onePerPoint ? [] : (exporter.rowReads ?? []));
  for (const column of exporter.columns as readonly Column<unknown>[]) for (const key of column.reads ?? []) (column.readsText ? text : other).add(key);
  return [...text].filter((key) => !other.has(key));
}

/** The usual case: one row per point. */
export function onePerPoint(point: ExportPoint): Iterable<ExportRow> {
  return [{ point, item: undefined }];
}

/** The usual exporter: its own data type, one file for all sources, one row per point. */
export function perPointExporter(id: string, label: string, columns: readonly Column[], extra: Partial<Exporter> = {}): Exporter {
  return { id, label, generators: [id], layout: 'single', rowsAre: 'one row per point', rows: onePerPoint, columns, ...extra };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExporter = Exporter<any>;
