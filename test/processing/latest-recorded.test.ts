/**
 * data_sources.latest_point_recorded is the newest `recorded` of the source's points even when
 * processing loops commit out of order: the PDK API relies on it as an upper bound to drop a
 * `recorded__lte` filter that cannot exclude anything (src/api/points.repository.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RECORD_BATCH_SQL } from '../../src/processing/record-batch.sql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** The statement of one batch that added `n` points of `source` recorded at `recorded` (microseconds since 2000; no bundles, no deltas). */
const batch = (source: string, n: number, recorded: string) => [[source], ['850000000000000'], ['UA'], [String(n)], [], [], [], [], [], [], [], [], [], [], [], [], [], [recorded], []];
const NOW = `SELECT now() AS at, (extract(epoch FROM now()) * 1000000 - 946684800000000)::int8::text AS micros`;

it('keeps the newest recorded time when an older transaction commits last', async () => {
  const older = await db.pool.connect();
  const newer = await db.pool.connect();
  try {
    await older.query('BEGIN');
    const { rows: [first] } = await older.query(NOW);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await newer.query('BEGIN');
    const { rows: [second] } = await newer.query(NOW);
    expect(second.at.getTime()).toBeGreaterThan(first.at.getTime());
    await newer.query(RECORD_BATCH_SQL, batch('S1', 3, second.micros));
    await newer.query('COMMIT');
    await older.query(RECORD_BATCH_SQL, batch('S1', 2, first.micros));
    await older.query('COMMIT');
    const { rows } = await db.pool.query(`SELECT latest_point_recorded, point_count::int FROM data_sources WHERE source = 'S1'`);
    expect(rows).toEqual([{ latest_point_recorded: second.at, point_count: 5 }]);
  } finally {
    older.release();
    newer.release();
  }
});
