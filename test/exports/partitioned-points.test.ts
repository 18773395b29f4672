/**
 * Exports on partitioned data_points (migration 0032): the export sorts the points' keys and
 * places, then reads each point by its place. A place (ctid) is unique only within a partition,
 * so two points stored first in two months share it: each must still be read once, as itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthStart } from '../../src/db/partitions.ts';
import { streamPoints } from '../../src/exports/point-query.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
const dates = ['2021-03-04T05:06:07Z', monthStart(new Date(), 2).toISOString(), monthStart(new Date(), 5).toISOString()];

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [i, created] of dates.entries()) {
    await db.pool.query(
      `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
       VALUES ('part-a', 'webmunk-extension-element-show', 'Element Show', $1, 'timestamp', now(), 1, md5($2)::uuid, $3)`,
      [created, `point ${i}`, { n: i, 'passive-data-metadata': { source: 'part-a' } }],
    );
  }
});
afterAll(async () => {
  await db?.drop();
});

describe('exports over several partitions', () => {
  it('the points lie first in three partitions: one place for all three', async () => {
    const { rows } = await db.pool.query(`SELECT tableoid::regclass::text AS part, ctid::text AS place FROM data_points ORDER BY created`);
    expect(new Set(rows.map((r) => r.part)).size).toBe(3);
    expect(new Set(rows.map((r) => r.place))).toEqual(new Set(['(0,1)']));
  });

  for (const order of ['newest-first', 'created-ascending'] as const) {
    it(`reads each point once, as itself (${order})`, async () => {
      const seen: { n: unknown; created: string }[] = [];
      for await (const batch of streamPoints(db.pool, { generators: ['webmunk-extension-element-show'], sources: ['part-a'], dateType: 'created', timeZone: 'UTC', order })) {
        for (const point of batch) seen.push({ n: point.properties.n, created: new Date(point.createdMicros / 1000).toISOString() });
      }
      const expected = dates.map((created, n) => ({ n, created: new Date(created).toISOString() }));
      expect(seen).toEqual(order === 'newest-first' ? expected.reverse() : expected);
    });
  }
});
