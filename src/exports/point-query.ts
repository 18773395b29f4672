/**
 * Streams the points an exporter reads straight from PostgreSQL through a cursor
 * (pg-query-stream), a batch at a time: memory stays flat whatever the export's size. The order
 * (per source, newest first by the chosen date) is PostgreSQL's, from the (source, generator_id,
 * created) index or its own sort, never a sort in this process.
 */
import QueryStream from 'pg-query-stream';
import type { Pool } from '../db/database.ts';
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
  /** newest first by the date column (the TSV exporters), or oldest first by `created` (raw JSON, as the original) */
  order: 'newest-first' | 'created-ascending';
}

const BATCH_ROWS = 2000;

export async function* streamPoints(pool: Pool, window: PointWindow): AsyncGenerator<StoredPoint> {
  const column = window.dateType === 'recorded' ? 'recorded' : 'created';
  const params: unknown[] = [window.generators, window.sources];
  const conditions = ['generator_id = ANY($1::text[])', 'source = ANY($2::text[])'];
  // Whole days in the server's zone, both ends inclusive (pdk-server.md §7.3's recommendation).
  if (window.from || window.to) params.push(window.timeZone);
  if (window.from) {
    params.push(window.from);
    conditions.push(`${column} >= ($${params.length}::date::timestamp AT TIME ZONE $3::text)`);
  }
  if (window.to) {
    params.push(window.to);
    conditions.push(`${column} < (($${params.length}::date + 1)::timestamp AT TIME ZONE $3::text)`);
  }
  const sql = `
    SELECT source, generator_id, generator,
           (extract(epoch FROM created) * 1000000)::int8 AS created_us,
           (extract(epoch FROM recorded) * 1000000)::int8 AS recorded_us,
           properties
    FROM data_points
    WHERE ${conditions.join(' AND ')}
    ORDER BY source, ${window.order === 'newest-first' ? `${column} DESC, id DESC` : 'created, id'}`;
  const client = await pool.connect();
  const stream = client.query(new QueryStream(sql, params, { batchSize: BATCH_ROWS }));
  try {
    for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
      yield {
        source: row.source as string,
        generatorId: row.generator_id as string,
        generator: row.generator as string,
        createdMicros: Number(row.created_us),
        recordedMicros: Number(row.recorded_us),
        properties: row.properties as Record<string, unknown>,
      };
    }
  } finally {
    stream.destroy();
    client.release();
  }
}
