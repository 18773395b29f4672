/**
 * Points the original server skipped silently (pdk-server.md §6.2 step 5.2) are counted here, per
 * reason, in bundles.points_rejected / bundles.rejections; the valid points of the same bundle are
 * stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/monitoring/status.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, createJson, postGzip, withSource } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const meta = (point: Point) => point['passive-data-metadata'] as Record<string, unknown>;

describe('rejected points', () => {
  it('counts each kind of unusable point by reason and stores the rest of the bundle', async () => {
    const good = withSource(samples(0, 10, 40), 'rejections-good');
    const [noMeta, noSource, noGenerator, metaNotObject, nullSource] = withSource(samples(1, 2, 3, 5, 9), 'rejections-bad');
    delete noMeta['passive-data-metadata'];
    delete meta(noSource).source;
    delete meta(noGenerator).generator;
    metaNotObject['passive-data-metadata'] = 'not metadata' as never;
    meta(nullSource).source = null; // the key is there: stored as missing-source, like an empty one
    const notObjects = [42, 'a string', null, [samples(4)[0]], true];
    const points = [noMeta, good[0], noSource, ...notObjects, good[1], noGenerator, metaNotObject, nullSource, good[2]];

    const id = await postGzip(server, points);
    const result = await server.process();
    expect(result).toMatchObject({ bundles: 1, points: points.length, added: good.length + 1, rejected: 9, failed: 0 });

    const row = await bundle(server, id);
    expect(row).toMatchObject({ status: 'processed', point_count: points.length, points_added: good.length + 1, points_rejected: 9 });
    expect(row.rejections).toEqual({
      'missing-metadata': 2,
      'missing-source': 1,
      'missing-generator': 1,
      'not-an-object': notObjects.length,
    });
    expect([...row.sources!].sort()).toEqual(['missing-source', 'rejections-good']);

    const { rows } = await server.db.pool.query('SELECT source, generator_id FROM data_points WHERE bundle_id = $1', [id]);
    const key = (r: { source: string; generator_id: unknown }) => `${r.source} ${r.generator_id}`;
    expect(rows.map(key).sort()).toEqual([
      ...good.map((p) => ({ source: 'rejections-good', generator_id: meta(p)['generator-id'] })),
      { source: 'missing-source', generator_id: meta(nullSource)['generator-id'] },
    ].map(key).sort());
    // The array nested as an element is not unpacked.
    expect(await count(server, `data_points WHERE generator_id = $1`, [meta(samples(4)[0])['generator-id']])).toBe(0);
    const status = await readStatus(server.db.pool, server.config.spoolDir);
    expect(status.pointsRejected).toBe(9);
    expect(status.points).toBe(await count(server, 'data_points'));
  });

  it('handles a bundle of nothing but rejected points, and an empty bundle', async () => {
    const [a, b] = samples(6, 8);
    delete meta(a).source;
    delete meta(a).generator;
    delete meta(b).source;
    const allBad = await createJson(server, JSON.stringify([a, b]));
    const empty = await createJson(server, '[]');
    const before = await count(server, 'data_points');
    await server.process();
    expect(await count(server, 'data_points')).toBe(before);

    expect(await bundle(server, allBad)).toMatchObject({
      status: 'processed', point_count: 2, points_added: 0, points_rejected: 2, rejections: { 'missing-source': 2 }, sources: null,
    });
    expect(await bundle(server, empty)).toMatchObject({
      status: 'processed', point_count: 0, points_added: 0, points_rejected: 0, rejections: null, sources: null,
    });
  });

  it('stores one point sent to add-point.json', async () => {
    const [point] = withSource(samples(42), 'rejections-single');
    const response = await fetch(`${server.baseUrl}/data/add-point.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: JSON.stringify(point) }).toString(),
    });
    expect(response.status).toBe(201);
    await server.process();
    const { rows } = await server.db.pool.query(`SELECT properties, secondary_identifier FROM data_points WHERE source = 'rejections-single'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].secondary_identifier).toBe(point.event_name);
    expect(rows[0].properties['passive-data-metadata'].encrypted_transmission).toBe(false);
  });
});
