/**
 * The original's stored points, written as our bundles (pdk-import/import-bundles.ts), come out of
 * processing as the same points: same properties (the original's encrypted_transmission kept),
 * same `recorded`; the same import again adds nothing.
 */
import { expect, it } from 'vitest';
import { createImportBundleWriter, type OriginalPoint } from '../../src/pdk-import/import-bundles.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();

function originalPoints(): OriginalPoint[] {
  return SAMPLES.slice(0, 12).map((sample, i) => {
    const properties = structuredClone(sample);
    properties['passive-data-metadata'] = { ...properties['passive-data-metadata'], source: 'moved-1', timestamp: 1_690_000_000 + i, encrypted_transmission: i % 3 === 0 };
    // Three bundles on the original: points 0-4, 5-8, 9-11.
    const recorded = i < 5 ? '2023-07-22 10:00:00.000001+00' : i < 9 ? '2023-07-22 10:15:00.5+00' : '2023-07-23 00:00:00+00';
    return { key: String(1000 + i), recorded, properties: JSON.stringify(properties) };
  });
}

async function importAll(points: OriginalPoint[]) {
  const writer = createImportBundleWriter(server.db.pool, 'test:original');
  for (const point of points) await writer.add(point);
  await writer.finish();
  return writer.counts;
}

it('stores the original points with their properties and recorded time, once', async () => {
  const points = originalPoints();
  expect(await importAll(points)).toEqual({ bundles: 3, alreadyStored: 0, points: 12 });
  await server.process();
  const { rows } = await server.db.pool.query(
    `SELECT properties, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS recorded FROM data_points
     WHERE source = 'moved-1' ORDER BY created`,
  );
  expect(rows.map((r) => r.properties)).toEqual(points.map((p) => JSON.parse(p.properties)));
  expect(rows.map((r) => r.recorded)).toEqual([
    ...Array(5).fill('2023-07-22 10:00:00.000001'), ...Array(4).fill('2023-07-22 10:15:00.500000'), ...Array(3).fill('2023-07-23 00:00:00.000000'),
  ]);

  expect(await importAll(points)).toEqual({ bundles: 3, alreadyStored: 3, points: 12 });
  // Cut differently (a run resumed mid-group), the first bundle is new, but its points are not.
  expect(await importAll(points.slice(2))).toEqual({ bundles: 3, alreadyStored: 2, points: 10 });
  await server.process();
  const { rows: [counted] } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'moved-1'`);
  expect(counted.n).toBe(12);
});
