/**
 * A bundle brought back by a restore or made by an import carries its points' original `recorded`
 * time (bundles.points_recorded_at, migration 0018): its points keep it, small bundles and those
 * read in pieces alike, and the source's latest recorded point is that time, not the processing time.
 */
import { gzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { SAMPLES, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { bundle } from './support.ts';

const server = useTestServer();

function pointsOf(source: string, n: number, padding = 0): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const point = structuredClone(SAMPLES[i % SAMPLES.length]);
    point['passive-data-metadata'] = { ...point['passive-data-metadata'], source, timestamp: 1_700_000_000 + i };
    if (padding) point.padding = 'x'.repeat(padding);
    return point;
  });
}

async function insertRecorded(points: Point[], recordedAt: string | null): Promise<number> {
  const { rows } = await server.db.pool.query(
    `INSERT INTO bundles (endpoint, transport, compression, body, points_recorded_at) VALUES ('bundle', 'put', 'gzip', $1, $2) RETURNING id::int`,
    [gzipSync(JSON.stringify(points)), recordedAt],
  );
  return rows[0].id;
}

it('gives the points of a bundle with points_recorded_at that time, and the source its latest', async () => {
  const small = await insertRecorded(pointsOf('kept-1', 5), '2024-03-01T12:00:00.123456Z');
  const older = await insertRecorded(pointsOf('kept-1', 7).slice(5), '2024-02-01T00:00:00Z');
  const large = await insertRecorded(pointsOf('kept-2', 3, 1_200_000), '2023-11-05T08:30:00Z');
  const fresh = await insertRecorded(pointsOf('fresh', 2), null);
  const before = new Date();
  await server.process();
  for (const id of [small, older, large, fresh]) expect((await bundle(server, id)).status).toBe('processed');

  const { rows } = await server.db.pool.query(
    `SELECT source, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS recorded, count(*)::int AS n
     FROM data_points WHERE source LIKE 'kept-%' GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  expect(rows).toEqual([
    { source: 'kept-1', recorded: '2024-02-01 00:00:00.000000', n: 2 },
    { source: 'kept-1', recorded: '2024-03-01 12:00:00.123456', n: 5 },
    { source: 'kept-2', recorded: '2023-11-05 08:30:00.000000', n: 3 },
  ]);
  const sources = await server.db.pool.query(
    `SELECT source, to_char(latest_point_recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS latest FROM data_sources WHERE source LIKE 'kept-%' ORDER BY 1`,
  );
  expect(sources.rows).toEqual([{ source: 'kept-1', latest: '2024-03-01 12:00:00.123456' }, { source: 'kept-2', latest: '2023-11-05 08:30:00.000000' }]);
  const freshRecorded = await server.db.pool.query(`SELECT min(recorded) AS at FROM data_points WHERE source = 'fresh'`);
  expect(freshRecorded.rows[0].at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
});
