/**
 * Migration 0029 on a database the id-cursor harvest ran on: the points of the harvested types
 * stored after its cursor (`last_point_id`) go into the outbox, so none in flight is lost, and the
 * ones before it are not read again; the cursor goes, the BRIN index on id (the data-quality
 * job's) stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let db: TestDatabase;
let server: TestServer;

/**
 * A point as the former processing stored it, showing `asin` in its markup; `digest` false: one
 * stored before migration 0009, whose backfill has not given it its digest yet.
 */
async function storePoint(generatorId: string, asin: string, second: number, digest = true): Promise<void> {
  await db.pool.query(
    `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_hash, content_digest, properties)
     VALUES ('mig-0029', $1, $1, 'UA', to_timestamp(1700000000 + $3), 'timestamp', now(), 0, $3, CASE WHEN $4 THEN md5($2)::uuid END,
             jsonb_build_object('element-content*', '<div data-asin="' || $2 || '"></div>', 'url*', 'https://www.amazon.com/s?k=x'))`,
    [generatorId, asin, second, digest],
  );
}

beforeAll(async () => {
  db = await createTestDatabase({ before: 29 });
  await storePoint('webmunk-extension-element-show', 'B0MIGOLD01', 1);
  await storePoint('webmunk-extension-element-hide', 'B0MIGOLD02', 2);
  // the former harvest had read up to here
  await db.pool.query('UPDATE amazon_harvest_state SET last_point_id = (SELECT max(id) FROM data_points)');
  await storePoint('webmunk-extension-element-show', 'B0MIGNEW01', 3);
  await storePoint('rex-history-visit', 'B0MIGNOT01', 4); // a type the harvest does not read
  await storePoint('webmunk-extension-class-added', 'B0MIGNEW02', 5, false);
  server = await startTestServer({}, { db }); // migrates
  await server.process(); // gives the last point its digest (migration 0009's step)
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('migration 0029', () => {
  it('queues the points of the harvested types after the former cursor, drops the cursor, keeps the BRIN index', async () => {
    const { rows } = await db.pool.query(
      `SELECT d.properties ->> 'element-content*' AS html FROM harvest_queue q JOIN data_points d USING (source, created, content_digest) ORDER BY q.id`,
    );
    expect(rows.map((r) => /data-asin="(\w+)"/.exec(r.html)![1])).toEqual(['B0MIGNEW01', 'B0MIGNEW02']);
    const { rows: columns } = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'amazon_harvest_state' AND column_name = 'last_point_id'`);
    expect(columns).toEqual([]);
    const { rows: indexes } = await db.pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'data_points' AND indexname = 'data_points_id'`);
    expect(indexes).toEqual([{ indexname: 'data_points_id' }]);
  });

  it('lets the harvest read those points and no other', async () => {
    expect(await harvestAsins(db.pool, server.config)).toMatchObject({ points: 2, sightings: 2, newProducts: 2 });
    const { rows } = await db.pool.query('SELECT asin FROM amazon_products ORDER BY asin');
    expect(rows.map((r) => r.asin)).toEqual(['B0MIGNEW01', 'B0MIGNEW02']);
  });
});
