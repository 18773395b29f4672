/**
 * Processing is idempotent: a point delivered again (client retry after a lost response, the same
 * bundle uploaded twice, or the same points re-serialised differently) is stored once, and the
 * counters (bundles.points_added, data_sources.point_count, `dcs status`) stay true. And only
 * then: points that differ in any value are all stored, also those the former 64-bit key
 * (jsonb_hash_extended) took for one another.
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

  it('stores the same point once when re-sent with other escapes, a duplicate key or the encrypted flag', async () => {
    const [original] = withSource(samples(2), 'idem-d');
    const text = JSON.stringify(original);
    const before = await count(server, 'data_points');
    await createJson(server, `[${text}]`);
    // `/` as `\/`, every non-ASCII character and the first `a` as \u escapes, a key sent twice
    // (the last value counts), and the flag processing adds sent by the client
    const escaped = text.replaceAll('/', '\\/').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace('a', '\\u0061');
    const flagged = text.replace('"passive-data-metadata":{', '"passive-data-metadata":{"encrypted_transmission":true,');
    expect(escaped).not.toBe(text);
    expect(flagged).not.toBe(text);
    await createJson(server, `[${escaped}, ${text.replace('{', '{"date":0,')}]`);
    await createJson(server, `[${flagged}]`);
    await server.process();
    expect(await count(server, 'data_points')).toBe(before + 1);
    await expectConsistentStatus();
  });

  it('keeps points with the same time that differ only in the signs of their numbers', async () => {
    const [original] = withSource(samples(7), 'idem-signs');
    const point = (top: number, left: number) => ({ ...structuredClone(original), offset: { top, left } });
    const sent = [point(1.5, 2), point(-1.5, -2), point(-1.5, 2)];
    const before = await count(server, 'data_points');
    await postGzip(server, sent.slice(0, 2));
    await postGzip(server, sent.slice(2)); // in another bundle too
    await server.process();
    expect(await count(server, 'data_points')).toBe(before + 3);
    const { rows } = await server.db.pool.query(`SELECT properties -> 'offset' AS offset FROM data_points WHERE source = 'idem-signs' ORDER BY id`);
    expect(rows.map((r) => r.offset)).toEqual(sent.map((p) => p.offset));
    await expectConsistentStatus();
  });

  it('keeps points the former key merged: values 32 array positions apart, nested containers, written precision', async () => {
    const [original] = withSource(samples(7), 'idem-xor');
    const items = (at: Record<number, unknown>) => Array.from({ length: 40 }, (_, i) => (i in at ? at[i] : i));
    const bodies = [
      { items: items({ 0: 'p', 32: 'p' }) }, { items: items({ 0: 'q', 32: 'q' }) }, // equal pairs cancel out
      { items: items({ 3: 'p', 35: 'q' }) }, { items: items({ 3: 'q', 35: 'p' }) }, // swapped 32 apart
      { a: [], b: 1 }, { a: [{}, {}], b: 1 }, // nested containers only XOR a constant
    ];
    const before = await count(server, 'data_points');
    await postGzip(server, bodies.map((body) => ({ ...structuredClone(original), ...body })));
    // 1.5 and 1.50 are stored as sent (PostgreSQL keeps the digits), so they are two points
    const text = JSON.stringify({ ...original, x: 1.5 });
    await createJson(server, `[${text}, ${text.replace('"x":1.5', '"x":1.50')}]`);
    await server.process();
    expect(await count(server, 'data_points')).toBe(before + bodies.length + 2);
    const { rows } = await server.db.pool.query(`SELECT (properties -> 'x')::text AS x FROM data_points WHERE properties ? 'x' AND source = 'idem-xor' ORDER BY id`);
    expect(rows.map((r) => r.x)).toEqual(['1.5', '1.50']);
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
