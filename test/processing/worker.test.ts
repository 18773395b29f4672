/**
 * The continuous worker (started with the server) picks uploads up by itself, shares the queue
 * between its loops without double processing, skips past a poison bundle, and stops cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/monitoring/status.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, postGzip, realCounts, recordedCounts, tally, withSource } from './support.ts';

const POLL_LIMIT_MS = 15_000;

let server: TestServer | undefined;
beforeAll(async () => {
  server = await startTestServer({ WORKER_CONCURRENCY: '3' }, { worker: true });
});
afterAll(async () => {
  await server?.stop();
});

/** Polls (bounded) until no bundle is pending; returns whether that happened in time. */
async function drained(s: TestServer, ids: number[]): Promise<boolean> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (Date.now() < deadline) {
    if ((await count(s, `bundles WHERE id = ANY($1) AND status = 'pending'`, [ids])) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('processing worker', () => {
  it('processes an upload without being asked', async () => {
    const s = server!;
    const points = withSource(samples(0, 1, 2, 40), 'worker-one');
    const id = await postGzip(s, points);
    expect(await drained(s, [id])).toBe(true);
    expect(await bundle(s, id)).toMatchObject({ status: 'processed', point_count: 4, points_added: 4, points_rejected: 0 });
    expect(await count(s, `data_points WHERE source = 'worker-one'`)).toBe(4);
  });

  it('shares many concurrent uploads between its loops, each processed once, past a poison bundle', async () => {
    const s = server!;
    const batches = Array.from({ length: 12 }, (_, i) => withSource(samples(3 + i, 20 + i), `worker-many-${i % 4}`));
    const poison = await s.db.pool.query(
      `INSERT INTO bundles (endpoint, transport, compression, body) VALUES ('bundle', 'json', 'gzip', 'not gzip') RETURNING id::int`,
    );
    // All at once, plus the first one twice more: its points must still be stored once.
    await Promise.all([...batches, batches[0], batches[0]].map((points) => postGzip(s, points)));
    const { rows: uploaded } = await s.db.pool.query(`SELECT id::int FROM bundles WHERE id > $1 ORDER BY id`, [poison.rows[0].id]);
    const ids = uploaded.map((r) => r.id as number);
    expect(ids).toHaveLength(batches.length + 2);
    expect(await drained(s, [...ids, poison.rows[0].id])).toBe(true);

    for (const id of ids) expect((await bundle(s, id)).status).toBe('processed');
    expect(await bundle(s, poison.rows[0].id)).toMatchObject({ status: 'errored', attempts: s.config.processMaxAttempts });
    const expected = tally(batches.flat());
    const real = await realCounts(s);
    for (const [source, n] of Object.entries(expected)) expect(real[source], source).toBe(n);
    expect(await recordedCounts(s)).toEqual(real);
    const { rows } = await s.db.pool.query(`SELECT sum(points_added)::int AS added FROM bundles WHERE id = ANY($1)`, [ids]);
    expect(rows[0].added).toBe(batches.flat().length);
    expect((await readStatus(s.db.pool, s.config.spoolDir)).points).toBe(await count(s, 'data_points'));
  });

  it('stops even when asked while it is still connecting', async () => {
    // Regression: stop() right after start left the LISTEN client waiting forever.
    const quick = await startTestServer({}, { worker: true });
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('hung'), POLL_LIMIT_MS);
    });
    expect(await Promise.race([quick.stop().then(() => 'stopped'), hung])).toBe('stopped');
    clearTimeout(timer);
  });

  it('stops cleanly, and a new server on the same database finishes what was left', async () => {
    const s = server!;
    await s.running.stop(); // keeps the database; stop() below drops it
    const db = s.db;
    expect(await count(s, `bundles WHERE status = 'pending'`)).toBe(0);
    // Work queued while no worker runs is picked up by the next one.
    const id = (await db.pool.query(
      `INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'json', $1) RETURNING id::int`,
      [Buffer.from(JSON.stringify(withSource(samples(41), 'worker-later')))],
    )).rows[0].id;
    const next = await startTestServer({}, { worker: true, db });
    try {
      expect(await drained(next, [id])).toBe(true);
      expect(await bundle(next, id)).toMatchObject({ status: 'processed', points_added: 1 });
    } finally {
      await next.stop();
    }
  });
});
