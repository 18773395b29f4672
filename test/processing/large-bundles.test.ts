/**
 * Bundles larger than a batch (2 MB of JSON) are read as a stream and stored piece by piece
 * (processing/large-bundle.ts): the result is the same as for small bundles, nothing of a bundle is
 * stored when a later piece fails, and a batch never decodes more than it can hold, however small
 * its bundles look stored (gzip).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../src/processing/process-bundles.ts';
import { createLogger } from '../../src/log.ts';
import { SAMPLES, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { bundle, count, postGzip } from './support.ts';

const server = useTestServer({ PROCESS_MAX_ATTEMPTS: '2' });

/** A pending bundle as an earlier version (or the spool) stored it: not checked at upload. */
async function insertPending(points: string): Promise<number> {
  const { rows } = await server.db.pool.query(
    `INSERT INTO bundles (endpoint, transport, compression, body) VALUES ('bundle', 'put', 'gzip', $1) RETURNING id::int`,
    [gzipSync(points)],
  );
  return rows[0].id;
}

/** `n` distinct points of every sample type, for source `source`. */
function pointsOf(source: string, n: number): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const point = structuredClone(SAMPLES[i % SAMPLES.length]);
    point['large-marker'] = i;
    point['passive-data-metadata'] = { ...point['passive-data-metadata'], source, timestamp: 1_765_000_000 + i };
    return point;
  });
}

describe('bundles larger than a batch', () => {
  it('stores every point of a bundle read in pieces, counts it like any bundle, and repeats nothing', async () => {
    const points = pointsOf('large-1', 4000);
    const text = JSON.stringify([...points, { 'no-metadata': true }, 42, points[5]]);
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    const earlier = await postGzip(server, [points[7]]); // an earlier upload already holds one of them
    const id = await insertPending(text);

    await server.process();
    expect(await bundle(server, earlier)).toMatchObject({ status: 'processed', points_added: 1 });
    expect(await bundle(server, id)).toMatchObject({
      status: 'processed', error: null, point_count: 4003, points_added: 3999, points_rejected: 2, sources: ['large-1'],
    });
    expect((await bundle(server, id)).rejections).toEqual({ 'not-an-object': 1, 'missing-metadata': 1 });
    expect(await count(server, 'data_points WHERE source = $1', ['large-1'])).toBe(4000);
    const { rows } = await server.db.pool.query(`SELECT properties FROM data_points WHERE source = 'large-1' ORDER BY (properties->>'large-marker')::int`);
    rows.forEach(({ properties }, i) => {
      const { 'passive-data-metadata': metadata, ...rest } = properties;
      const { 'passive-data-metadata': sentMetadata, ...sentRest } = points[i];
      expect(rest).toEqual(sentRest);
      expect(metadata).toEqual({ ...sentMetadata, encrypted_transmission: false });
    });
    const counted = await server.db.pool.query(`SELECT point_count FROM data_sources WHERE source = 'large-1'`);
    expect(counted.rows).toEqual([{ point_count: 4000 }]);
  });

  it('stores nothing of a bundle whose last piece is broken, errors it with the reason, and goes on with the others', async () => {
    const good = pointsOf('large-2', 3000);
    const broken = await insertPending(`${JSON.stringify(good).slice(0, -1)},{"passive-data-metadata": ]`);
    const after = await postGzip(server, pointsOf('large-3', 2));
    await server.process();
    expect(await bundle(server, broken)).toMatchObject({ status: 'errored', attempts: 2 });
    expect((await bundle(server, broken)).error).toMatch(/^invalid JSON/);
    expect(await count(server, 'data_points WHERE source = $1', ['large-2'])).toBe(0);
    expect(await bundle(server, after)).toMatchObject({ status: 'processed', points_added: 2 });
  });

  it('decodes no more than a batch holds, however small the bundles are stored', async () => {
    // 1.5 MB of JSON each, a few KB of gzip: the claim takes several, the batch decodes one.
    const text = (source: string) => JSON.stringify(pointsOf(source, 1).map((p) => ({ ...p, padding: ' '.repeat(1_500_000) })));
    const ids = [await insertPending(text('small-1')), await insertPending(text('small-2')), await insertPending(text('small-3'))];
    const deps = { pool: server.running.db.pool, config: server.config, log: createLogger('silent') };
    expect(await processBatch(deps)).toMatchObject({ bundles: 1, points: 1 });
    expect((await bundle(server, ids[1])).status).toBe('pending');
    await server.process();
    for (const id of ids) expect(await bundle(server, id)).toMatchObject({ status: 'processed', points_added: 1 });
  });
});
