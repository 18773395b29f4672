/**
 * Streams the points an exporter reads straight from PostgreSQL with a binary COPY: PostgreSQL
 * sends rows as fast as this process takes them (no round trip per batch, as a cursor has) and
 * memory stays flat whatever the export's size. The order (per source, newest first by the
 * chosen date) is PostgreSQL's, never a sort in this process.
 */
import type { Pool } from '../db/database.ts';
import { streamBinaryRows } from '../db/copy-binary.ts';
import type { StoredPoint } from './export-point.ts';

export interface PointWindow {
  generators: readonly string[];
  sources: readonly string[];
  dateType: 'created' | 'recorded';
  /** inclusive first day, YYYY-MM-DD in `timeZone` */
  from?: string;
  /** inclusive last day */
  to?: string;
  timeZone: string;
  /** top-level keys to leave out of `properties` (never read by the exporter) */
  skipKeys?: readonly string[];
  /** newest first by the date column (the TSV exporters), or oldest first by `created` (raw JSON, as the original) */
  order: 'newest-first' | 'created-ascending';
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A text[] literal (COPY takes no parameters, so values are quoted here, by the driver's own quoting). */
function textArray(quote: (text: string) => string, values: readonly string[]): string {
  return values.length === 0 ? `'{}'::text[]` : `ARRAY[${values.map(quote).join(',')}]::text[]`;
}

export function pointsSql(window: PointWindow, quote: (text: string) => string): string {
  const column = window.dateType === 'recorded' ? 'recorded' : 'created';
  const conditions = [`generator_id = ANY(${textArray(quote, window.generators)})`, `source = ANY(${textArray(quote, window.sources)})`];
  // Whole days in the server's zone, both ends inclusive (pdk-server.md §7.3's recommendation).
  for (const day of [window.from, window.to]) if (day !== undefined && !DAY.test(day)) throw new Error(`not a day: ${day}`);
  if (window.from) conditions.push(`${column} >= (${quote(window.from)}::date::timestamp AT TIME ZONE ${quote(window.timeZone)})`);
  if (window.to) conditions.push(`${column} < ((${quote(window.to)}::date + 1)::timestamp AT TIME ZONE ${quote(window.timeZone)})`);
  // Sources in code-point order whatever the database's collation, as the original's sorted().
  return `SELECT source, generator_id, generator,
           (extract(epoch FROM created) * 1000000)::int8 AS created_us,
           (extract(epoch FROM recorded) * 1000000)::int8 AS recorded_us,
           ${window.skipKeys?.length ? `properties - ${textArray(quote, window.skipKeys)}` : 'properties'}
    FROM data_points
    WHERE ${conditions.join(' AND ')}
    ORDER BY source COLLATE "C", ${window.order === 'newest-first' ? `${column} DESC, id DESC` : 'created, id'}`;
}

export async function* streamPoints(pool: Pool, window: PointWindow): AsyncGenerator<StoredPoint> {
  const client = await pool.connect();
  let finished = false;
  try {
    // The sort by source and date spills to disk; 64 MB (PostgreSQL's default is 4) made it 13%
    // faster on 2 million points (22.0 s -> 19.2 s inside PostgreSQL). Reset before release.
    await client.query(`SET work_mem = '64MB'`);
    const sql = pointsSql(window, (text) => client.escapeLiteral(text));
    for await (const [source, generatorId, generator, created, recorded, properties] of streamBinaryRows(client, sql)) {
      yield {
        source: source!.toString('utf8'),
        generatorId: generatorId!.toString('utf8'),
        generator: generator!.toString('utf8'),
        createdMicros: Number(created!.readBigInt64BE(0)),
        recordedMicros: Number(recorded!.readBigInt64BE(0)),
        // binary jsonb: a version byte (1), then the JSON text
        properties: JSON.parse(properties!.toString('utf8', 1)),
      };
    }
    await client.query('RESET work_mem');
    finished = true;
  } finally {
    // A COPY abandoned half-way (the export failed) leaves the connection mid-protocol: close it
    // rather than hand it back to the pool.
    client.release(!finished);
  }
}
