/**
 * Processing is idempotent: a point delivered again (client retry after a lost response, the same
 * bundle uploaded twice, or the same points re-serialised differently) is stored once, and the
 * counters (bundles.points_added, data_sources.point_count, `dcs status`) stay true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/monitoring/status.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, createJson, postGzip, realCounts, recordedCounts, tally, withSource } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** The same value with every object's keys in reverse order (JSON text differs, content does not). */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
  }
  return value;
}

async function expectConsistentStatus(): Promise<void> {
  const status = await readStatus(server.db.pool, server.config.spoolDir);
  const total = await count(server, 'data_points');
  expect(status.points).toBe(total);
  expect(status.sources).toBe(await count(server, '(SELECT DISTINCT source FROM data_points) s'));
  expect(status.bundles).toBe(await count(server, 'bundles'));
  expect(status.bundlesPending).toBe(0);
  expect(status.bundlesErrored).toBe(0);
  expect(status.bundlesProcessed).toBe(status.bundles);
  const { rows } = await server.db.pool.query('SELECT coalesce(sum(points_added), 0)::int AS added FROM bundles');
  expect(rows[0].added).toBe(total); // every stored point was added by exactly one bundle
  const { rows: mismatched } = await server.db.pool.query(
    `SELECT b.id FROM bundles b LEFT JOIN (SELECT bundle_id, count(*)::int AS n FROM data_points GROUP BY 1) p ON p.bundle_id = b.id
     WHERE b.points_added IS DISTINCT FROM coalesce(p.n, 0)`,
  );
  expect(mismatched).toEqual([]); // ... and each point links to the bundle that counted it
  expect(await recordedCounts(server)).toEqual(await realCounts(server));
}

describe('duplicate deliveries', () => {
  const points: Point[] = withSource(samples(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 'idem-a');

  it('stores the points of a bundle uploaded twice once (second processing run)', async () => {
    const first = await postGzip(server, points);
    await server.process();
    const idsBefore = (await server.db.pool.query('SELECT id FROM data_points ORDER BY id')).rows;
    expect(idsBefore).toHaveLength(points.length);
    const sourcesBefore = await recordedCounts(server);
    expect(sourcesBefore).toEqual(tally(points));

    const second = await postGzip(server, points);
    const result = await server.process();
    expect(result).toMatchObject({ bundles: 1, points: points.length, added: 0, rejected: 0 });
    expect(await bundle(server, first)).toMatchObject({ status: 'processed', point_count: points.length, points_added: points.length });
    expect(await bundle(server, second)).toMatchObject({ status: 'processed', point_count: points.length, points_added: 0, points_rejected: 0 });
    expect((await server.db.pool.query('SELECT id FROM data_points ORDER BY id')).rows).toEqual(idsBefore);
    expect(await recordedCounts(server)).toEqual(sourcesBefore);
    await expectConsistentStatus();
  });

  it('recognises the same points with other whitespace and key order, in another bundle and transport', async () => {
    const text = JSON.stringify(reversedKeys(points.slice().reverse()));
    expect(text).not.toBe(JSON.stringify(points));
    expect(text.indexOf('"passive-data-metadata"')).toBeLessThan(text.indexOf('"date"')); // really reordered
    const id = await createJson(server, text);
    await server.process();
    expect(await bundle(server, id)).toMatchObject({ point_count: points.length, points_added: 0 });
    expect(await count(server, 'data_points')).toBe(points.length);
    await expectConsistentStatus();
  });

  it('stores a point once when copies arrive in one bundle or in bundles processed together', async () => {
    const fresh = withSource(samples(13, 14, 16, 17), 'idem-b');
    const a = await postGzip(server, [...fresh, ...structuredClone(fresh)]);
    const b = await createJson(server, JSON.stringify(reversedKeys(fresh)));
    const c = await postGzip(server, [fresh[0]]);
    const before = await count(server, 'data_points');
    const result = await server.process();
    expect(result).toMatchObject({ bundles: 3, points: fresh.length * 3 + 1, added: fresh.length });
    expect(await count(server, 'data_points')).toBe(before + fresh.length);
    // Which of the three bundles counts as the first delivery is not specified; exactly one per point.
    const added = await Promise.all([a, b, c].map(async (id) => (await bundle(server, id)).points_added!));
    expect(added.reduce((x, y) => x + y, 0)).toBe(fresh.length);
    expect((await recordedCounts(server))['idem-b']).toBe(fresh.length);
    await expectConsistentStatus();
  });

  it('keeps points that differ in any value, even only in the timestamp', async () => {
    const [original] = withSource(samples(7), 'idem-c');
    const otherValue = structuredClone(original);
    otherValue.action = `${String(original.action)} `;
    const otherTime = structuredClone(original);
    (otherTime['passive-data-metadata'] as Record<string, number>).timestamp += 1;
    const before = await count(server, 'data_points');
    await postGzip(server, [original, otherValue, otherTime]);
    await server.process();
    expect(await count(server, 'data_points')).toBe(before + 3);
    expect((await recordedCounts(server))['idem-c']).toBe(3);
    await expectConsistentStatus();
  });
});
