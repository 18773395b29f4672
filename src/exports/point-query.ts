/**
 * Streams the points an exporter reads straight from PostgreSQL with a binary COPY: PostgreSQL
 * sends rows as fast as this process takes them (no round trip per batch, as a cursor has) and
 * memory stays flat whatever the export's size. The order (per source, newest first by the
 * chosen date) is PostgreSQL's, never a sort in this process. One query per source, each in a
 * transaction of its own: the snapshot an export holds lasts one source, not the whole export.
 *
 * An exporter that reads a few of a point's keys gets only those (Column.reads): each as its text
 * when it is a JSON string (PostgreSQL copies it as stored; writing it as JSON and parsing it here
 * cost more than anything else in an export of element HTML), as JSON otherwise. The string
 * values of the keys its columns take as bytes (Column.readsText) stay bytes (Utf8Text).
 */
import type { Pool } from '../db/database.ts';
import type { ResolvedRule } from '../data-quality/exclusion-rules.repository.ts';
import { notExcluded } from '../data-quality/exclusion-sql.ts';
import { streamBinaryRowBatches, timestampMicros, type RowBatch } from '../db/copy-binary.ts';
import { transactionStream } from '../db/transaction.ts';
import type { StoredPoint } from './export-point.ts';
import { Utf8Text } from './utf8-text.ts';

export interface PointWindow {
  generators: readonly string[];
  sources: readonly string[];
  dateType: 'created' | 'recorded';
  /** inclusive first day, YYYY-MM-DD in `timeZone` */
  from?: string;
  /** inclusive last day */
  to?: string;
  timeZone: string;
  /** the top-level keys to send (with the metadata's timezone and generated-key); undefined: the whole point */
  keys?: readonly string[];
  /** those of `keys` whose string values are handed over as Utf8Text */
  textKeys?: readonly string[];
  /** newest first by the date column (the TSV exporters), or oldest first by `created` (raw JSON, as the original) */
  order: 'newest-first' | 'created-ascending';
  /** the exclusion rules in force: the points they match are left out */
  exclusions?: readonly ResolvedRule[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const METADATA = 'passive-data-metadata';

/** A text[] literal (COPY takes no parameters, so values are quoted here, by the driver's own quoting). */
function textArray(quote: (text: string) => string, values: readonly string[]): string {
  return values.length === 0 ? `'{}'::text[]` : `ARRAY[${values.map(quote).join(',')}]::text[]`;
}

/**
 * A key's value (`value<i>`, computed once in the row's lateral): `s` and the text for a JSON
 * string, else its JSON (NULL when absent). Looked up once, not once per use: on 1 million
 * element-show points the CASE over `properties -> key` written three times cost PostgreSQL
 * 0.3 s more.
 */
const typedValue = (i: number) => `CASE jsonb_typeof(value${i}) WHEN 'string' THEN 's' || (value${i} #>> '{}') ELSE value${i}::text END`;

/** The points of the window: its types, sources and days (exclusion rules apart). */
export function windowConditions(window: Pick<PointWindow, 'generators' | 'sources' | 'dateType' | 'from' | 'to' | 'timeZone'>, quote: (text: string) => string): string[] {
  const column = window.dateType === 'recorded' ? 'recorded' : 'created';
  const conditions = [`generator_id = ANY(${textArray(quote, window.generators)})`, `source = ANY(${textArray(quote, window.sources)})`];
  // Whole days in the server's zone, both ends inclusive (pdk-server.md §7.3's recommendation).
  for (const day of [window.from, window.to]) if (day !== undefined && !DAY.test(day)) throw new Error(`not a day: ${day}`);
  if (window.from) conditions.push(`${column} >= (${quote(window.from)}::date::timestamp AT TIME ZONE ${quote(window.timeZone)})`);
  if (window.to) conditions.push(`${column} < ((${quote(window.to)}::date + 1)::timestamp AT TIME ZONE ${quote(window.timeZone)})`);
  return conditions;
}

export function pointsSql(window: PointWindow, quote: (text: string) => string): string {
  const column = window.dateType === 'recorded' ? 'recorded' : 'created';
  const conditions = windowConditions(window, quote);
  // the window's bounds on `created` (its first two conditions are the types and sources), so the
  // read-back below plans only the window's months, not every partition
  const createdBounds = column === 'created' ? conditions.slice(2).map((c) => ` AND ${c}`).join('') : '';
  if (window.exclusions && window.exclusions.length > 0) conditions.push(notExcluded(window.exclusions, quote));
  const keys = window.keys ?? [];
  const properties = window.keys
    ? [`properties -> '${METADATA}' ->> 'timezone'`, `properties -> '${METADATA}' ->> 'generated-key'`, ...keys.map((_, i) => typedValue(i))].join(', ')
    : 'properties';
  // OFFSET 0 keeps the lateral a subquery, so each value is looked up once
  const values = keys.map((key, i) => `, properties -> ${quote(key)} AS value${i}`).join('');
  // Sources in code-point order whatever the database's collation, as the original's sorted().
  // The id breaks ties, not the content digest (scale-out.md Q10): points with one `created` are
  // common (the items of a donated Amazon order all share their order's day) and the original
  // wrote them in the order they were stored, which the golden tests hold us to.
  const order = `source COLLATE "C", ${window.order === 'newest-first' ? `${column} DESC, id DESC` : 'created, id'}`;
  // The rows are sorted by their keys and place alone, then read whole in that order: sorting
  // the points themselves wrote and read them all through temporary files (on 1 million
  // element-show points, 13.1-14.1 s of PostgreSQL's CPU against 10.9-11.9 s this way). The
  // times go as they are stored (binary: microseconds since 2000), not through numeric
  // arithmetic (0.6 s of PostgreSQL's CPU on those points). A place is unique only within a
  // partition of data_points (migration 0032): `created` and `source` pick the partition (pruned
  // at run time; the source too once partitions are per source, as shards are on Citus: with
  // `created` alone the place could name a row of another source's partition of that month),
  // the place the row in it.
  return `SELECT source, generator_id, generator, created, recorded, ${properties}
    FROM (SELECT source, ${column === 'created' ? 'created' : 'recorded, created'}, id, ctid AS place FROM data_points
          WHERE ${conditions.join(' AND ')} ORDER BY ${order}) sorted
    CROSS JOIN LATERAL (SELECT generator_id, generator, ${column === 'created' ? 'recorded, ' : ''}properties${values} FROM data_points
                        WHERE source = sorted.source AND created = sorted.created AND ctid = sorted.place${createdBounds} OFFSET 0) point
    ORDER BY ${order}`;
}

/** Texts that repeat from row to row (source, data type, user agent), decoded once while they do. */
class RepeatedText {
  private bytes = Buffer.alloc(0);
  private text = '';

  read(buffer: Buffer, start: number, length: number): string {
    if (length !== this.bytes.length || buffer.compare(this.bytes, 0, length, start, start + length) !== 0) {
      this.bytes = Buffer.from(buffer.subarray(start, start + length));
      this.text = this.bytes.toString('utf8');
    }
    return this.text;
  }
}

/** Shorter texts are decoded even for a column that takes bytes: a short string costs less than a view of the buffer. */
const BYTES_FROM = 128;

/** `s` + text: the text (as bytes when `asBytes` and it is long); otherwise JSON. */
function typed(buffer: Buffer, start: number, length: number, asBytes: boolean): unknown {
  if (length === -1) return undefined;
  if (buffer[start] === 0x73) return asBytes && length > BYTES_FROM ? new Utf8Text(buffer.subarray(start + 1, start + length)) : buffer.toString('utf8', start + 1, start + length);
  return JSON.parse(buffer.toString('utf8', start, start + length));
}

/**
 * A batch's points, each decoded only when it is reached: a batch can hold thousands of rows
 * when this process is behind, and decoding them all at once would keep all their strings alive
 * together, past young-generation collections.
 */
export function decoder(keys: readonly string[] | undefined, textKeys: readonly string[] = []): (batch: RowBatch) => Iterable<StoredPoint> {
  const source = new RepeatedText();
  const generatorId = new RepeatedText();
  const generator = new RepeatedText();
  const asBytes = (keys ?? []).map((key) => textKeys.includes(key));
  return function* ({ buffer, rows, fieldCount, starts, lengths }) {
    for (let r = 0, k = 0; r < rows; r++, k += fieldCount) {
      let properties: Record<string, unknown>;
      if (keys) {
        const metadata: Record<string, unknown> = {};
        if (lengths[k + 5] !== -1) metadata.timezone = buffer.toString('utf8', starts[k + 5], starts[k + 5] + lengths[k + 5]);
        if (lengths[k + 6] !== -1) metadata['generated-key'] = buffer.toString('utf8', starts[k + 6], starts[k + 6] + lengths[k + 6]);
        properties = { [METADATA]: metadata };
        for (let i = 0; i < keys.length; i++) properties[keys[i]] = typed(buffer, starts[k + 7 + i], lengths[k + 7 + i], asBytes[i]);
      } else {
        // binary jsonb: a version byte (1), then the JSON text
        properties = JSON.parse(buffer.toString('utf8', starts[k + 5] + 1, starts[k + 5] + lengths[k + 5]));
      }
      yield {
        source: source.read(buffer, starts[k], lengths[k]),
        generatorId: generatorId.read(buffer, starts[k + 1], lengths[k + 1]),
        generator: generator.read(buffer, starts[k + 2], lengths[k + 2]),
        createdMicros: timestampMicros(buffer, starts[k + 3]),
        recordedMicros: timestampMicros(buffer, starts[k + 4]),
        properties,
      };
    }
  };
}

/**
 * Sources per query. Each batch of sources is its own short query in its own transaction, so an
 * export that runs for hours never holds one snapshot that long: a snapshot held keeps VACUUM
 * from removing any row deleted after it began, the bundle queue's included (scale-out.md Q10).
 * One source a query cost PostgreSQL ~3.5% more CPU than one query over all (1 million points of
 * 540 sources), and batches of 25 no less (BENCHMARKS.md, 2026-12-07): the shortest snapshots.
 */
export const SOURCES_PER_QUERY = 1;

/**
 * The window's sources, each once, in code-point order (the byte order of their UTF-8, which is
 * PostgreSQL's `COLLATE "C"`), cut into the batches queried one after the other. Rows come out
 * in the order one query over them all would give.
 */
export function sourceBatches(sources: readonly string[], size = SOURCES_PER_QUERY): string[][] {
  const ordered = [...new Set(sources)].map((source) => ({ source, bytes: Buffer.from(source) })).sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map((s) => s.source);
  const batches: string[][] = [];
  for (let i = 0; i < ordered.length; i += size) batches.push(ordered.slice(i, i + size));
  return batches;
}

/**
 * The sort of the keys (about 100 bytes a point) spills to disk past 64 MB (PostgreSQL's default
 * is 4). Parallel workers only pass the rows through shared memory to this one backend, which
 * sends them: on 1 million element-show points they cost 14.2 s of CPU against 13.3 s without,
 * beside this process competing for the same cores. Reading each point by its place needs a
 * nested loop: a hash join read the whole table into batches and sorted it again. SET LOCAL, so
 * they end with each query's transaction (and hold behind a transaction-mode PgBouncer).
 */
const QUERY_SETTINGS = { work_mem: '64MB', max_parallel_workers_per_gather: 0, enable_hashjoin: 'off', enable_mergejoin: 'off' };

/**
 * The window's points, in batches as PostgreSQL's chunks bring them (each valid until the next is
 * asked for). Two connections take turns: while one source is read, the next one's query already
 * runs on the other (PostgreSQL sorts a source's keys before its first row), so PostgreSQL and
 * this process keep working at the same time, as they did on one query over every source.
 */
export async function* streamPoints(pool: Pool, window: PointWindow): AsyncGenerator<Iterable<StoredPoint>> {
  const clients = [await pool.connect()];
  let finished = false;
  try {
    clients.push(await pool.connect());
    const decode = decoder(window.keys, window.textKeys);
    const quote = (text: string) => clients[0].escapeLiteral(text);
    const batches = sourceBatches(window.sources);
    const start = (i: number) => {
      const sql = pointsSql({ ...window, sources: batches[i] }, quote);
      const rows = transactionStream(clients[i % 2], (tx) => streamBinaryRowBatches(tx, sql), { readOnly: true, settings: QUERY_SETTINGS });
      const first = rows.next();
      // read (and its failure thrown) when its turn comes; meanwhile no unhandled rejection
      first.catch(() => undefined);
      return { rows, first };
    };
    let next = batches.length > 0 ? start(0) : undefined;
    for (let i = 0; next; i++) {
      const current = next;
      next = i + 1 < batches.length ? start(i + 1) : undefined;
      for (let result = await current.first; !result.done; result = await current.rows.next()) yield decode(result.value);
    }
    finished = true;
  } finally {
    // A COPY abandoned half-way (the export failed), or the next one started ahead, leaves its
    // connection mid-protocol with its transaction open: close them rather than hand them back.
    for (const client of clients) client.release(!finished);
  }
}
