/**
 * A database outage loses nothing (issue 9): uploads the database cannot take go to the spool,
 * are answered 201 as usual, and reach `bundles` once when it is back; only a full spool refuses,
 * and then so that every client keeps the points. The outage is a TCP proxy in front of the test
 * PostgreSQL that drops every connection (the embedded server's own stop: outage.once.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCKS, tryLockTransaction } from '../../src/db/advisory-lock.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import type { ReceivedUpload } from '../../src/ingest/bundle.repository.ts';
import { decodeSpoolFile, encodeSpoolFile, SpoolFileError } from '../../src/ingest/spool-file.ts';
import { Spool, spoolStats } from '../../src/ingest/spool.ts';
import { createLogger } from '../../src/log.ts';
import { readStatus } from '../../src/monitoring/status.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { BUNDLE_ADDED, BUNDLE_ADDED_PRETTY, expectReply, POINT_ADDED, send, UNPARSABLE_BUNDLE } from '../helpers/replies.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { testUpload, TRANSPORTS } from '../helpers/uploads.ts';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-spool-'));

/** A server whose database connections go through a proxy the test can stop. */
async function serverBehindProxy(env: Record<string, string> = {}): Promise<{ server: TestServer; proxy: TcpProxy; db: TestDatabase; done(): Promise<void> }> {
  const db = await createTestDatabase();
  const url = new URL(db.url);
  const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  await proxy.start();
  const proxied = new URL(db.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  proxied.searchParams.delete('host'); // the embedded server's Unix socket would bypass the TCP proxy
  const server = await startTestServer({ DATABASE_URL: proxied.toString(), UPLOAD_DB_TIMEOUT_MS: '1000', ...env }, { db });
  return {
    server, proxy, db,
    async done() {
      await server.stop();
      await proxy.stop();
      await db.drop();
    },
  };
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const EXPECTED_REPLY: Record<string, string> = { create: BUNDLE_ADDED_PRETTY, point: POINT_ADDED };

describe('database unavailable', () => {
  it('keeps uploads of every transport in the spool, answers them as usual, and inserts them once when the database is back', async () => {
    const { server, proxy, db, done } = await serverBehindProxy();
    try {
      expectReply(await send(server, 'add-bundle.json', testUpload(0, 'gzip-form').init), 201, BUNDLE_ADDED);

      await proxy.stop();
      for (const [i, transport] of TRANSPORTS.entries()) {
        const upload = testUpload(1 + i, transport, i % 2 === 0 ? 'participant-7' : undefined);
        expectReply(await send(server, upload.path, upload.init), 201, EXPECTED_REPLY[transport] ?? BUNDLE_ADDED);
      }
      // An undecodable upload is kept too (errored, whole body), and still answered 400.
      expectReply(await send(server, 'add-bundle.json', { method: 'CREATE', body: '[{' }), 400, UNPARSABLE_BUNDLE);
      const spooled = await spoolStats(server.config.spoolDir);
      expect(spooled.files).toBe(TRANSPORTS.length + 1);
      expect(spooled.bytes).toBeGreaterThan(0);
      // /metrics still answers: the database is down, the spool fills
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^dcs_database_up 0$/m);
      expect(metrics).toContain(`\ndcs_spooled_uploads ${spooled.files}\n`);
      expect(metrics).toContain(`\ndcs_spool_bytes ${spooled.bytes}\n`);

      await proxy.start(); // same port: the database is back
      await waitFor('the spool has drained', async () => (await spoolStats(server.config.spoolDir)).files === 0);
      const { rows } = await db.pool.query(`SELECT transport, status, identifier, receipt IS NOT NULL AS has_receipt FROM bundles ORDER BY id`);
      expect(rows.map((r) => r.transport)).toEqual(['form', 'form', 'form', 'multipart', 'create', 'put', 'json', 'form', 'create']);
      expect(rows.map((r) => r.status)).toEqual([...Array(8).fill('pending'), 'errored']);
      expect(rows.slice(1, 8).map((r) => r.identifier)).toEqual(['participant-7', null, 'participant-7', null, 'participant-7', null, 'participant-7']);
      expect(rows.every((r) => r.has_receipt)).toBe(true);
      // arrival order is kept
      const { rows: times } = await db.pool.query(`SELECT received_at FROM bundles ORDER BY id`);
      expect(times.map((t) => t.received_at.getTime())).toEqual(times.map((t) => t.received_at.getTime()).sort((a, b) => a - b));

      await server.process();
      const { rows: points } = await db.pool.query(`SELECT (properties->>'outage-marker')::int AS marker, count(*)::int AS n FROM data_points GROUP BY 1 ORDER BY 1`);
      expect(points).toEqual(Array.from({ length: TRANSPORTS.length + 1 }, (_, marker) => ({ marker, n: 1 })));
      const status = await readStatus(db.pool, server.config.spoolDir);
      expect({ spooled: status.spooled, spoolBytes: status.spoolBytes, errored: status.bundlesErrored }).toEqual({ spooled: 0, spoolBytes: 0, errored: 1 });
    } finally {
      await done();
    }
  });

  it('refuses when the spool is full too: 503 JSON to clients that send X-PDK-IDENTIFIER, 503 text to older ones, and stores nothing', async () => {
    const { server, proxy, db, done } = await serverBehindProxy({ SPOOL_MAX_BYTES: '0' });
    try {
      await proxy.stop();
      const modern = await send(server, 'add-bundle.json', testUpload(1, 'gzip-form', 'participant-7').init);
      expectReply(modern, 503, '{"message": "The server cannot store uploads right now; please retry later.", "added": false}');
      expect(modern.headers.get('retry-after')).toBe('60');
      // Older clients count any JSON body as success and drop the points: they must get something else.
      const older = await send(server, 'add-bundle.json', testUpload(2, 'gzip-form').init);
      expectReply(older, 503, 'The server cannot store uploads right now; please retry later.\n', 'text/plain');
      expect(() => JSON.parse(older.body.toString())).toThrow();
      const head = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'HEAD' });
      expect(head.status).toBe(200);

      await proxy.start();
      expectReply(await send(server, 'add-bundle.json', testUpload(3, 'gzip-form').init), 201, BUNDLE_ADDED);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM bundles');
      expect(rows[0].n).toBe(1);
      expect((await spoolStats(server.config.spoolDir)).files).toBe(0);
    } finally {
      await done();
    }
  });
});

function upload(overrides: Partial<ReceivedUpload> = {}): ReceivedUpload {
  return {
    receipt: randomUUID(),
    receivedAt: new Date('2026-12-03T10:00:00.123Z'),
    bundle: {
      endpoint: 'bundle', transport: 'multipart', contentType: 'multipart/form-data; boundary=x', compression: 'gzip', encrypted: true,
      nonce: Buffer.from('0123456789abcdef01234567'), body: Buffer.from([0, 1, 2, 255, 254]), identifier: 'participant-7', compressedAtRest: false,
      files: [{ fieldName: 'image', filename: 'a.png', contentType: 'image/png', content: Buffer.from('PNG…') }, { fieldName: 'b', filename: undefined, contentType: undefined, content: Buffer.alloc(0) }],
    },
    ...overrides,
  };
}

describe('spool files', () => {
  it('hold every column of the bundle row and its files, byte for byte', () => {
    const original = upload();
    expect(decodeSpoolFile(encodeSpoolFile(original))).toEqual(original);
    const errored = upload({ error: 'invalid gzip data', bundle: { ...upload().bundle, nonce: undefined, encrypted: false, files: [] } });
    expect(decodeSpoolFile(encodeSpoolFile(errored))).toEqual(errored);
  });

  it('are recognised when damaged or cut short', () => {
    const bytes = encodeSpoolFile(upload());
    const flipped = Buffer.from(bytes);
    flipped[40] ^= 1;
    expect(() => decodeSpoolFile(flipped)).toThrow(SpoolFileError);
    expect(() => decodeSpoolFile(bytes.subarray(0, bytes.length - 3))).toThrow(SpoolFileError);
    expect(() => decodeSpoolFile(Buffer.from('hello'))).toThrow(SpoolFileError);
  });
});

describe('draining', () => {
  const log = createLogger('silent');

  it('inserts in arrival order, once: a file drained before (a crash before its removal) adds nothing; a damaged file is kept aside', async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    try {
      const spool = new Spool(dir, 1024 ** 2, log);
      await spool.open();
      const uploads = Array.from({ length: 120 }, (_, i) => upload({ receivedAt: new Date(Date.UTC(2026, 11, 3, 10, 0, 0, i)), bundle: { ...upload().bundle, files: [], body: Buffer.from(`upload ${i}`) } }));
      for (const u of uploads) await spool.write(u);
      const names = fs.readdirSync(dir).filter((n) => n.endsWith('.upload')).sort();
      expect(names).toHaveLength(120);
      const copyOfFirst = fs.readFileSync(path.join(dir, names[0]));
      fs.writeFileSync(path.join(dir, names[5]), Buffer.from('damaged'));

      expect(await spool.drain(db.pool)).toBe(119);
      const { rows } = await db.pool.query(`SELECT convert_from(body, 'UTF8') AS body FROM bundles ORDER BY id`);
      expect(rows.map((r) => r.body)).toEqual(uploads.filter((_, i) => i !== 5).map((u) => u.bundle.body.toString()));
      expect(fs.readdirSync(path.join(dir, 'damaged'))).toEqual([names[5]]);

      // As if the process died after the commit and before removing the file: it is drained again.
      fs.writeFileSync(path.join(dir, names[0]), copyOfFirst);
      expect(await spool.drain(db.pool)).toBe(0);
      expect((await db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n).toBe(119);
      expect(await spoolStats(dir)).toEqual({ files: 0, bytes: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('refuses over SPOOL_MAX_BYTES, and lets one process at a time drain a shared directory', async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    try {
      const small = new Spool(dir, encodeSpoolFile(upload()).length * 2, log);
      await small.open();
      await small.write(upload());
      await small.write(upload());
      await expect(small.write(upload())).rejects.toThrow(/SPOOL_MAX_BYTES/);

      // Two processes sharing the directory (two Spool objects here), draining at once: each upload lands once.
      const other = new Spool(dir, 1024 ** 2, log);
      await other.open();
      for (let i = 0; i < 40; i++) await other.write(upload());
      const drained = await Promise.all([small.drain(db.pool), other.drain(db.pool)]);
      expect(drained[0] + drained[1]).toBeLessThanOrEqual(42);
      await small.drain(db.pool);
      expect((await db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n).toBe(42);
      expect((await spoolStats(dir)).files).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('drains under a transaction-level lock (PgBouncer-safe): nothing while another transaction holds it, everything once it ends', async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    try {
      const spool = new Spool(dir, 1024 ** 2, log);
      await spool.open();
      for (let i = 0; i < 3; i++) await spool.write(upload());
      const lock = LOCKS.spoolDrain(`${os.hostname()} ${fs.realpathSync(dir)}`);
      await withTransaction(db.pool, async (tx) => {
        expect(await tryLockTransaction(tx, lock)).toBe(true); // another process's batch, in progress
        expect(await spool.drain(db.pool)).toBe(0);
        expect((await spoolStats(dir)).files).toBe(3);
      });
      expect(await spool.drain(db.pool)).toBe(3);
      expect((await spoolStats(dir)).files).toBe(0);
      // and no session lock is left behind on any connection
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});
