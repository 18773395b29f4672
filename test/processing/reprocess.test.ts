/**
 * `dcs reprocess` (queueReprocess + processUntilEmpty): rebuilds the data points of the chosen
 * bundles, all of them, by source or by receipt time, without duplicates, without touching other
 * sources' points, with data_sources.point_count still equal to the real count per source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/monitoring/status.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, postGzip, realCounts, recordedCounts, tally, withSource } from './support.ts';

let server: TestServer;
const ids: Record<'a' | 'b' | 'c' | 'd' | 'bad', number> = { a: 0, b: 0, c: 0, d: 0, bad: 0 };
const DAY = (n: number) => new Date(Date.UTC(2026, 0, n));
const sent: Point[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const a = withSource(samples(0, 1, 2, 3, 4, 5), 'rp-one');
  const noTime = withSource(samples(7), 'rp-one')[0];
  delete noTime['passive-data-metadata']!.timestamp;
  delete noTime.date; // created from the bundle's receipt time
  const b = withSource(samples(13, 14, 15, 16, 17), 'rp-two');
  const c = [...withSource(samples(8, 9, 10), 'rp-one'), ...withSource(samples(21, 22, 23, 24), 'rp-three')];
  const d = [...structuredClone(a.slice(0, 2)), ...withSource(samples(18), 'rp-two')]; // two re-deliveries
  const rejected = samples(11)[0];
  delete rejected['passive-data-metadata']!.generator;
  ids.a = await postGzip(server, [...a, noTime]);
  ids.b = await postGzip(server, b);
  ids.c = await postGzip(server, c);
  ids.d = await postGzip(server, [...d, rejected]);
  ids.bad = await postGzip(server, withSource(samples(19), 'rp-bad'));
  sent.push(...a, noTime, ...b, ...c, ...d.slice(2));
  // Distinct, known receipt times (one day apart) for the time-range selections.
  for (const [i, key] of (['a', 'b', 'c', 'd', 'bad'] as const).entries()) {
    await server.db.pool.query('UPDATE bundles SET received_at = $2 WHERE id = $1', [ids[key], DAY(i + 1)]);
  }
  // One bundle that failed processing (errored after attempts) is reprocessable; it stays bad.
  await server.db.pool.query(`UPDATE bundles SET compression = 'gzip', body = 'garbage' WHERE id = $1`, [ids.bad]);
  await server.process();
  expect((await bundle(server, ids.bad)).status).toBe('errored');
});
afterAll(async () => {
  await server?.stop();
});

interface Fingerprint { id: number; bundle_id: number; key: string }

/** Everything about each point except its id, recorded time and bundle link. */
async function points(): Promise<Fingerprint[]> {
  const { rows } = await server.db.pool.query<Fingerprint>(
    `SELECT id::int, bundle_id::int,
            concat_ws('|', source, generator_id, generator, secondary_identifier, user_agent, created, created_from,
                      content_digest::text, properties::text) AS key
     FROM data_points ORDER BY key`,
  );
  return rows;
}

const keys = (rows: Fingerprint[]) => rows.map((r) => r.key);

async function expectTruthfulCounters(): Promise<void> {
  expect(await recordedCounts(server)).toEqual(await realCounts(server));
  expect((await readStatus(server.db.pool, server.config.spoolDir)).points).toBe(await count(server, 'data_points'));
  expect(await count(server, 'bundles WHERE status = $1', ['pending'])).toBe(0);
}

describe('reprocess', () => {
  let initial: Fingerprint[];

  it('starts from the expected points', async () => {
    initial = await points();
    expect(initial).toHaveLength(sent.length);
    expect(await realCounts(server)).toEqual(tally(sent));
    const [a, d] = [await bundle(server, ids.a), await bundle(server, ids.d)];
    expect(d).toMatchObject({ point_count: 4, points_rejected: 1 });
    // d re-delivers two of a's points (processed in one batch, either may be credited with them).
    expect(a.points_added! + d.points_added!).toBe(a.point_count! + 1);
    await expectTruthfulCounters();
  });

  it('rebuilds everything: same points, no duplicates, counters true, hopeless bundles errored again', async () => {
    const before = await bundle(server, ids.bad);
    expect(before.attempts).toBe(server.config.processMaxAttempts);
    // An upload rejected at ingest holds the raw request: never queued.
    const ingestErrored = await server.db.pool.query(
      `INSERT INTO bundles (endpoint, transport, body, status, error, processed_at) VALUES ('bundle', 'form', 'x', 'errored', 'bad upload', now()) RETURNING id::int`,
    );
    expect(await queueReprocess(server.db.pool, {})).toBe(5);
    await server.process();
    expect(keys(await points())).toEqual(keys(initial));
    for (const key of ['a', 'b', 'c', 'd'] as const) expect((await bundle(server, ids[key])).status).toBe('processed');
    expect(await bundle(server, ids.d)).toMatchObject({ point_count: 4, points_rejected: 1, rejections: { 'missing-generator': 1 } });
    expect(await bundle(server, ids.bad)).toMatchObject({ status: 'errored', attempts: server.config.processMaxAttempts });
    expect(await bundle(server, ingestErrored.rows[0].id)).toMatchObject({ status: 'errored', attempts: 0, error: 'bad upload' });
    await expectTruthfulCounters();
  });

  it('by source: rebuilds the bundles holding that source, leaves other bundles untouched', async () => {
    const before = await points();
    expect(await queueReprocess(server.db.pool, { source: 'rp-one' })).toBe(3); // a, c (mixed) and d
    await server.process();
    const after = await points();
    expect(keys(after)).toEqual(keys(before));
    const untouched = (rows: Fingerprint[]) => rows.filter((r) => r.bundle_id === ids.b).map((r) => r.id);
    expect(untouched(after)).toEqual(untouched(before));
    expect(untouched(after)).toHaveLength(5);
    const rebuilt = new Set(after.filter((r) => r.bundle_id !== ids.b).map((r) => r.id));
    expect(before.filter((r) => rebuilt.has(r.id))).toEqual([]); // new rows for the chosen bundles
    await expectTruthfulCounters();
  });

  it('by receipt time: since is inclusive, until exclusive', async () => {
    const before = await points();
    expect(await queueReprocess(server.db.pool, { since: DAY(2), until: DAY(4) })).toBe(2); // b and c
    expect((await bundle(server, ids.b)).status).toBe('pending');
    expect((await bundle(server, ids.c)).status).toBe('pending');
    expect((await bundle(server, ids.d)).status).toBe('processed');
    await server.process();
    const after = await points();
    expect(keys(after)).toEqual(keys(before));
    const outside = (rows: Fingerprint[]) => rows.filter((r) => r.bundle_id === ids.a || r.bundle_id === ids.d).map((r) => r.id);
    expect(outside(after)).toEqual(outside(before));
    expect(outside(after).length).toBeGreaterThan(0);
    await expectTruthfulCounters();
  });

  it('by source and time together', async () => {
    expect(await queueReprocess(server.db.pool, { source: 'rp-two', since: DAY(3) })).toBe(1); // d only
    expect(await queueReprocess(server.db.pool, { source: 'nobody' })).toBe(0);
    await server.process();
    expect(keys(await points())).toEqual(keys(initial));
    await expectTruthfulCounters();
  });

  it('brings back points deleted by hand, with true counters', async () => {
    const removed = await server.db.pool.query(
      `DELETE FROM data_points WHERE id IN (SELECT id FROM data_points WHERE source IN ('rp-one', 'rp-two') ORDER BY id LIMIT 4) RETURNING source`,
    );
    expect(removed.rows).toHaveLength(4);
    await server.db.pool.query(`DELETE FROM data_points WHERE source = 'rp-three'`); // a source's every point
    expect(await queueReprocess(server.db.pool, {})).toBe(5);
    await server.process();
    expect(keys(await points())).toEqual(keys(initial));
    expect(await realCounts(server)).toEqual(tally(sent));
    await expectTruthfulCounters();
  });

  it('brings back points deleted by hand when only their source is reprocessed', async () => {
    await server.db.pool.query(`DELETE FROM data_points WHERE source = 'rp-two' AND bundle_id = $1`, [ids.b]);
    expect(await queueReprocess(server.db.pool, { source: 'rp-two' })).toBe(2); // b and d
    await server.process();
    expect(keys(await points())).toEqual(keys(initial));
    await expectTruthfulCounters();
  });
});
