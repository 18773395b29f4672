/**
 * Poison bundles (pdk-server.md §6.2 step 9: the original retried them forever and stalled the
 * queue): a pending bundle that cannot be decoded, or whose JSON PostgreSQL refuses, is retried
 * PROCESS_MAX_ATTEMPTS times and then marked errored with its message; it never blocks the good
 * bundles around it, and processUntilEmpty terminates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { readStatus } from '../../src/monitoring/status.ts';
import { processUntilEmpty, type BatchResult } from '../../src/processing/process-bundles.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, postGzip, withSource } from './support.ts';

const MAX_ATTEMPTS = 4;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ PROCESS_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
});
afterAll(async () => {
  await server?.stop();
});

/** A pending bundle written straight to the table, bypassing the upload checks. */
async function insertPending(compression: string, body: Buffer | string, encrypted = false): Promise<number> {
  const { rows } = await server.db.pool.query(
    `INSERT INTO bundles (endpoint, transport, compression, encrypted, body) VALUES ('bundle', 'json', $1, $2, $3) RETURNING id::int`,
    [compression, encrypted, Buffer.from(body)],
  );
  return rows[0].id;
}

/** Runs `work` but fails the test instead of hanging if it does not finish. */
async function bounded<T>(work: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function processWith(overrides: Partial<typeof server.config>): Promise<BatchResult> {
  return processUntilEmpty({ pool: server.running.db.pool, config: { ...server.config, ...overrides }, log: createLogger('silent') });
}

describe('poison bundles', () => {
  it('errors undecodable and database-rejected bundles after the configured attempts, processing every good one', async () => {
    const goods = [
      withSource(samples(0, 1), 'poison-good-1'),
      withSource(samples(2, 3, 4), 'poison-good-2'),
      withSource(samples(5), 'poison-good-3'),
      withSource(samples(6, 7), 'poison-good-4'),
    ];
    const ids: { good: number[]; bad: Record<string, number> } = { good: [], bad: {} };
    ids.good.push(await postGzip(server, goods[0]));
    ids.bad.notGzip = await insertPending('gzip', 'this is not gzip data');
    ids.good.push(await postGzip(server, goods[1]));
    ids.bad.badJson = await insertPending('none', '[{"passive-data-metadata": {"source": "x", "generator": "y"}, "a": }]');
    ids.bad.numericOverflow = await insertPending('none', '[{"passive-data-metadata": {"source": "x", "generator": "y"}, "n": 1e999999999}]');
    ids.good.push(await postGzip(server, goods[2]));
    ids.bad.notArray = await insertPending('none', '"just a string"');
    ids.bad.noKeys = await insertPending('none', Buffer.from([1, 2, 3]), true);
    ids.bad.unknownCompression = await insertPending('brotli', 'xyz');
    ids.good.push(await postGzip(server, goods[3]));
    expect(JSON.parse('[{"n": 1e999999999}]')[0].n).toBe(Infinity); // fine for JavaScript, not for jsonb

    const result = await bounded(server.process());
    const badCount = Object.keys(ids.bad).length;
    expect(result.bundles).toBe(goods.length);
    expect(result.failed).toBe(badCount * MAX_ATTEMPTS);

    for (const [i, id] of ids.good.entries()) {
      expect(await bundle(server, id), `good bundle ${i}`).toMatchObject({
        status: 'processed', attempts: 0, error: null, point_count: goods[i].length, points_added: goods[i].length,
      });
    }
    const stored = await count(server, 'data_points');
    expect(stored).toBe(goods.flat().length);
    expect(await count(server, 'data_points WHERE bundle_id <> ALL($1)', [ids.good])).toBe(0);

    const expectedError: Record<string, RegExp> = {
      notGzip: /gzip/i,
      badJson: /json/i,
      numericOverflow: /numeric|overflow/i,
      notArray: /array/i,
      noKeys: /encrypt|key/i,
      unknownCompression: /compression/i,
    };
    for (const [name, id] of Object.entries(ids.bad)) {
      const row = await bundle(server, id);
      expect(row.status, name).toBe('errored');
      expect(row.attempts, name).toBe(MAX_ATTEMPTS);
      expect(row.error, name).toMatch(expectedError[name]);
      expect(row.point_count, name).toBeNull();
    }

    // Errored bundles are left alone from now on.
    expect(await bounded(server.process())).toEqual({ bundles: 0, points: 0, added: 0, rejected: 0, failed: 0 });
    const status = await readStatus(server.db.pool, server.config.spoolDir);
    expect(status).toMatchObject({ bundlesPending: 0, bundlesErrored: badCount, bundlesProcessed: goods.length, points: stored });
  });

  it('isolates a poison bundle whatever the batch size and position', async () => {
    for (const batch of [1, 2, 3]) {
      const goodA = await postGzip(server, withSource(samples(8, 9), `poison-batch-${batch}-a`));
      const bad = await insertPending('none', '[{"passive-data-metadata": {"source": "x", "generator": "y"}, "a": ]');
      const goodB = await postGzip(server, withSource(samples(10), `poison-batch-${batch}-b`));
      await bounded(processWith({ processBatchBundles: batch }));
      expect((await bundle(server, goodA)).points_added, `batch ${batch}`).toBe(2);
      expect((await bundle(server, goodB)).points_added, `batch ${batch}`).toBe(1);
      expect(await bundle(server, bad), `batch ${batch}`).toMatchObject({ status: 'errored', attempts: MAX_ATTEMPTS });
    }
  });

  it('keeps an upload rejected at ingest errored without processing attempts', async () => {
    const form = new URLSearchParams({ compression: 'gzip', payload: Buffer.from('not gzip').toString('base64') }).toString();
    const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form,
    });
    expect(response.status).toBe(400);
    const { rows } = await server.db.pool.query(`SELECT max(id)::int AS id FROM bundles`);
    await bounded(server.process());
    expect(await bundle(server, rows[0].id)).toMatchObject({ status: 'errored', attempts: 0 });
  });

  it('stores JSON that jsonb would refuse as is (NUL, lone surrogates) instead of treating it as poison', async () => {
    const text = '[{"passive-data-metadata": {"source": "poison-text", "generator": "g: ua", "timestamp": 1700000000},'
      + ' "name": "a\\u0000b", "lone": "x\\ud800y", "pair": "\\ud83d\\ude00"}]';
    const id = await insertPending('none', text);
    await bounded(server.process());
    expect(await bundle(server, id)).toMatchObject({ status: 'processed', points_added: 1 });
    const { rows } = await server.db.pool.query(`SELECT properties FROM data_points WHERE source = 'poison-text'`);
    expect(rows[0].properties).toMatchObject({ name: 'ab', lone: 'x\ufffdy', pair: '😀' });
  });
});
