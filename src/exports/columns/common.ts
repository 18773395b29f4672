/** Columns many exporters share (webmunk-server.md §5.2), so each exporter file lists only names. */
import { removeLineBreaks, sensitiveKeys, type SensitiveOrder } from '../export-point.ts';
import { ZonedTime, type Column, type ExportRow } from '../exporter.ts';
import type { ParquetColumnType } from '../parquet-writer.ts';

/** A column; `reads` lists the point's top-level keys `value` reads (Column.reads: left out, the whole point). */
export function column<Item = undefined>(header: string, type: ParquetColumnType, about: string, value: (row: ExportRow<Item>) => unknown, reads?: readonly string[]): Column<Item> {
  return { header, type, about, value, reads };
}

/** A top-level property of the point (or a nested one by path), as stored. */
export function property<Item = undefined>(header: string, type: ParquetColumnType, path: string | string[], about?: string): Column<Item> {
  const keys = Array.isArray(path) ? path : [path];
  // a top-level value is written as it is: its text may stay bytes
  return { ...column(header, type, about ?? `\`${keys.join('.')}\` of the point`, ({ point }) => point.getPath(keys), [keys[0]]), readsText: keys.length === 1 };
}

/** A sensitive field (`url*` / `url!`), decrypted where it is ciphertext. */
export function sensitive<Item = undefined>(header: string, name: string, order: SensitiveOrder, options: { html?: boolean } = {}): Column<Item> {
  const forms = order === 'encrypted-only' ? `\`${name}*\`` : order === 'plain-first' ? `\`${name}!\`, else \`${name}*\`` : `\`${name}*\`, else \`${name}!\``;
  // a column that reads only `*` still writes the twin rather than ciphertext it cannot open
  const fallback = order === 'encrypted-only' ? `; its \`${name}!\` twin where it cannot be` : '';
  const about = `${forms} (decrypted with the server key where encrypted${fallback})${options.html ? ', line breaks removed' : ''}`;
  const keys = sensitiveKeys(name);
  const value = column<Item>(header, 'string', about, ({ point }) => {
    const value = point.sensitive(keys, order);
    return options.html ? removeLineBreaks(value) : value;
  }, [keys.encrypted, keys.plain]);
  return { ...value, readsText: true };
}

export const SOURCE = column<never>('Source', 'string', 'participant identifier', ({ point }) => point.source, []);
export const CREATED = column<never>('Date Created', 'time', "when the extension made the point, in the point's time zone", ({ point }) => new ZonedTime(point.stored.createdMicros, point.zone), []);
export const CREATED_UTC = column<never>('Date Created UTC', 'time', 'Date Created in UTC', ({ point }) => new ZonedTime(point.stored.createdMicros, 'UTC'), []);
export const RECORDED = column<never>('Date Recorded', 'time', "when the server received it, in the point's time zone", ({ point }) => new ZonedTime(point.stored.recordedMicros, point.zone), []);
export const RECORDED_UTC = column<never>('Date Recorded UTC', 'time', 'Date Recorded in UTC', ({ point }) => new ZonedTime(point.stored.recordedMicros, 'UTC'), []);
export const TIME_ZONE = column<never>('Time Zone', 'string', '`passive-data-metadata.timezone`, else the server TIME_ZONE', ({ point }) => point.zone, []);
export const TAB_ID = property<never>('Tab ID', 'int', 'tab-id');
export const PAGE_ID = property<never>('Page ID', 'string', 'page-id');

/** Source, Date Created, Date Recorded, Time Zone: how most Webmunk exporters begin. */
export const POINT_COLUMNS = [SOURCE, CREATED, RECORDED, TIME_ZONE] as const;
