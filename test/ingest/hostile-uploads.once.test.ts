/**
 * One public request must not stop the server (issue 17): `dcs start` in a child process whose
 * JavaScript heap is capped at 256 MB (a server that parsed uploads whole needed several GB for
 * these and died), under the uploads the issue tried and worse: gzip bombs of 470 MB of `[{},…]`
 * as PUT and as a gzip form, one point nested 50 million arrays deep, a 100 MB string, eight large
 * bodies at once, six 90 MB bodies at once; and bundles of that kind already stored (by an earlier
 * version, or through the spool) waiting for processing. Each refused upload is answered and kept
 * as an errored bundle with its reason; the server stays up and an ordinary upload sent afterwards
 * is stored and processed. Once-only (a child server, hundreds of MB through loopback).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useChildServers, type ChildServer } from '../helpers/child-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { deepNestingBomb, emptyObjectsBomb, gzipRepeated, hugeStringBomb } from '../helpers/hostile-bodies.ts';
import { markedPoint } from '../helpers/uploads.ts';

const servers = useChildServers();
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const MB = 1024 * 1024;
const HEAP = ['--max-old-space-size=256'];

async function upload(server: ChildServer, init: RequestInit): Promise<{ status: number; body: string }> {
  const reply = await fetch(`${server.baseUrl}/data/add-bundle.json`, { ...init, signal: AbortSignal.timeout(120_000) });
  return { status: reply.status, body: await reply.text() };
}

const putGzip = (body: Buffer<ArrayBuffer>): RequestInit => ({ method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
const gzipForm = (body: Buffer): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ compression: 'gzip', payload: body.toString('base64') }).toString(),
});

/** An ordinary upload is answered 201 and its point processed. */
async function expectServing(server: ChildServer, marker: number): Promise<void> {
  expect(server.child.exitCode, server.output()).toBeNull();
  const head = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
  expect(head.status).toBe(200);
  const reply = await upload(server, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([markedPoint(marker)]) });
  expect(reply.status).toBe(201);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE properties->>'outage-marker' = $1`, [String(marker)]);
    if (rows[0].n === 1) return;
    if (Date.now() > deadline) throw new Error(`the ordinary upload ${marker} was not processed:\n${server.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function erroredSince(id: number): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT error FROM bundles WHERE id > $1 AND status = 'errored' ORDER BY id`, [id]);
  return rows.map((r) => r.error);
}

const lastId = async () => (await db.pool.query('SELECT coalesce(max(id), 0)::int AS id FROM bundles')).rows[0].id as number;

describe('uploads built to exhaust memory', () => {
  it('answers each, keeps each as an errored bundle with its reason, and stays up under a 256 MB heap', { timeout: 300_000 }, async () => {
    const server = await servers.start({ DATABASE_URL: db.url, DATA_DIR: servers.tempDir() }, HEAP);
    const bomb = emptyObjectsBomb(470);
    expect(bomb.length).toBeLessThan(MB);

    let before = await lastId();
    for (const init of [putGzip(bomb), gzipForm(bomb)]) {
      expect(await upload(server, init)).toEqual({ status: 400, body: '{"message": "Unable to parse data bundle."}' });
    }
    expect(await erroredSince(before)).toEqual(Array(2).fill('more than 100000 data points in one upload'));

    // 500 MB of 1 MB strings: few enough points, each small enough, but too much in all.
    before = await lastId();
    expect((await upload(server, putGzip(gzipRepeated('[', `"${'x'.repeat(MB)}",`, 500, '""]')))).status).toBe(400);
    expect(await erroredSince(before)).toEqual(['decompressed payload exceeds 67108864 bytes']);

    before = await lastId();
    expect((await upload(server, putGzip(deepNestingBomb(50_000_000)))).status).toBe(400);
    expect((await upload(server, putGzip(hugeStringBomb(100)))).status).toBe(400);
    expect(await erroredSince(before)).toEqual(['JSON nested more than 512 levels deep', 'a data point larger than 16777216 bytes']);
    await expectServing(server, 1);

    // Eight 30 MB bodies at once: 10 million empty objects each, far beyond MAX_BUNDLE_POINTS.
    before = await lastId();
    const large = Buffer.from(`[${'{},'.repeat(10 * MB - 1)}{}]`);
    const replies = await Promise.all(Array.from({ length: 8 }, () => upload(server, { method: 'POST', headers: { 'content-type': 'application/json' }, body: large })));
    // Each is let in when the bytes in flight allow (UPLOAD_MAX_INFLIGHT_BYTES), or told to send it again.
    for (const reply of replies) expect([400, 503]).toContain(reply.status);
    const refused = replies.filter((r) => r.status === 400).length;
    expect(await erroredSince(before)).toEqual(Array(refused).fill('more than 100000 data points in one upload'));

    // Six 90 MB bodies at once: over MAX_BODY_BYTES, refused before they are read.
    const huge = Buffer.alloc(90 * MB, 0x20);
    const tooLarge = await Promise.all(Array.from({ length: 6 }, () => upload(server, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge }).catch((error) => ({ status: 0, body: String(error) }))));
    for (const reply of tooLarge) expect([413, 0]).toContain(reply.status); // 0: the server closed the connection after its 413
    await expectServing(server, 2);
  });

  it('processes stored bundles of any size in bounded memory, or marks them errored with the reason', { timeout: 300_000 }, async () => {
    // What an earlier version stored without checking: six 90 MB bundles of empty objects, and a
    // 14 MB bundle of 90,000 scroll positions (over the 2 MB a batch parses whole).
    const insert = (body: Buffer) => db.pool.query(
      `INSERT INTO bundles (endpoint, transport, compression, body) VALUES ('bundle', 'put', 'gzip', $1) RETURNING id::int`, [body],
    ).then((r) => r.rows[0].id as number);
    const bombs = [];
    for (let i = 0; i < 6; i++) bombs.push(await insert(emptyObjectsBomb(90)));
    const points = Array.from({ length: 90_000 }, (_, i) => ({
      'passive-data-metadata': { source: `large-${i % 7}`, 'generator-id': 'webmunk-extension-scroll-position', generator: 'test', timestamp: 1_765_000_000 + i / 100 },
      offset: { top: i, left: -i },
      'page-id': `page-${i}`,
    }));
    const big = await insert(gzipSync(JSON.stringify(points)));

    const server = await servers.start({ DATABASE_URL: db.url, DATA_DIR: servers.tempDir() }, HEAP);
    await expectServing(server, 3);
    const deadline = Date.now() + 240_000;
    for (;;) {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM bundles WHERE id = ANY($1) AND status = 'pending'`, [[...bombs, big]]);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error(`stored bundles still pending:\n${server.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const { rows } = await db.pool.query(`SELECT id, status, error, point_count, points_added FROM bundles WHERE id = ANY($1) ORDER BY id`, [[...bombs, big]]);
    for (const row of rows.slice(0, 6)) expect(row).toMatchObject({ status: 'errored', error: 'more than 100000 data points in one upload' });
    expect(rows[6]).toMatchObject({ status: 'processed', error: null, point_count: 90_000, points_added: 90_000 });
    const stored = await db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE bundle_id = $1`, [big]);
    expect(stored.rows[0].n).toBe(90_000);
    expect(server.child.exitCode, server.output()).toBeNull();
  });
});
