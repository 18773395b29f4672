/**
 * `--types all` (typesPresent) lists the data types from the statistics, not from data_points: the
 * days the source-statistics job folded and the counts it has not folded yet, and not a type whose
 * points were all removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typesPresent } from '../../src/exports/export-catalog.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const day = (source: string, type: string, points: number) => db.pool.query(
  `INSERT INTO source_daily_points (source, generator_id, day, points, first_created, last_created, last_recorded) VALUES ($1, $2, '2026-03-01', $3, now(), now(), now())`,
  [source, type, points],
);
const delta = (source: string, type: string, points: number) => db.pool.query(
  `INSERT INTO source_point_deltas (source, generator_id, bucket, points, first_created, last_created) VALUES ($1, $2, '2026-03-02', $3, now(), now())`,
  [source, type, points],
);

describe('typesPresent', () => {
  it('lists the folded and the not yet folded types, each once, in code-point order', async () => {
    await day('a', 'webmunk-extension-action', 4);
    await day('b', 'webmunk-extension-action', 2);
    await day('a', 'Zeta-type', 1);
    await day('a', 'removed-by-reprocess', 0);
    await delta('b', 'webmunk-extension-action', 3);
    await delta('c', 'pdk-system-status', 1);
    await delta('c', 'only-removed', -2);
    expect(await typesPresent(db.pool)).toEqual(['Zeta-type', 'pdk-system-status', 'webmunk-extension-action']);
  });

});
