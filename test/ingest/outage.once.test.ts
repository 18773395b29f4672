/**
 * No acknowledged upload is lost, as a user would check it: `dcs start` in a child process under a
 * stream of uploads of every transport from six clients, while
 * - its embedded PostgreSQL is stopped (the postmaster gets SIGINT) and the server restarts it;
 * - its database is unreachable long enough to fill the spool, and the server is killed (-9) while
 *   the spool drains;
 * - the server itself is killed (-9) under load.
 * After each, every upload answered 201 is in `bundles` once and its point in `data_points` once.
 * Once-only (child servers, an embedded cluster of their own): not repeated on other versions.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useChildServers, type ChildServer } from '../helpers/child-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { testUpload, TRANSPORTS } from '../helpers/uploads.ts';

const servers = useChildServers();
const startChild = servers.start;
const tempDir = servers.tempDir;

async function kill9(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

/** Six clients uploading one marked point per request, in turn through every transport, until stopped. */
function uploadLoad(getBaseUrl: () => string, firstMarker: number) {
  let next = firstMarker;
  let running = true;
  const acknowledged: number[] = [];
  const statuses = new Map<number, number>();
  const client = async () => {
    while (running) {
      const marker = next++;
      const upload = testUpload(marker, TRANSPORTS[marker % TRANSPORTS.length], marker % 2 === 0 ? 'participant-7' : undefined);
      try {
        const reply = await fetch(`${getBaseUrl()}/data/${upload.path}`, { ...upload.init, signal: AbortSignal.timeout(30_000) });
        await reply.arrayBuffer();
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 201) acknowledged.push(marker);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the server is down: no reply, nothing acknowledged
      }
    }
  };
  const clients = Array.from({ length: 6 }, client);
  return {
    acknowledged,
    statuses,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const spooledCount = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'spool')).filter((n) => n.endsWith('.upload')).length;

/** Waits until everything is drained and processed, then checks every acknowledged marker is stored exactly once. */
async function expectAllStoredOnce(db: pg.Pool, dataDir: string, acknowledged: number[], exactBundles: boolean): Promise<void> {
  await waitFor('the spool is empty and every bundle processed', async () => {
    if (spooledCount(dataDir) > 0) return false;
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
    return rows[0].n === 0;
  });
  const { rows: points } = await db.query(`SELECT (properties->>'outage-marker')::int AS marker, count(*)::int AS n FROM data_points GROUP BY 1`);
  const stored = new Map(points.map((r) => [r.marker, r.n]));
  const missing = acknowledged.filter((m) => stored.get(m) !== 1);
  const { rows: states } = await db.query(`SELECT status, left(error, 200) AS error, count(*)::int AS n, sum(points_added)::int AS added FROM bundles GROUP BY 1, 2`);
  expect(missing, `acknowledged uploads whose point is not stored exactly once (bundles: ${JSON.stringify(states)})`).toEqual([]);
  const { rows: bundles } = await db.query(`SELECT count(*)::int AS n, count(DISTINCT receipt)::int AS receipts, count(*) FILTER (WHERE status = 'errored')::int AS errored FROM bundles`);
  expect(bundles[0].errored).toBe(0);
  expect(bundles[0].receipts).toBe(bundles[0].n);
  // A bundle stored but not acknowledged (the server died before its reply) is fine; one stored twice is not.
  if (exactBundles) expect(bundles[0].n).toBe(acknowledged.length);
  else expect(bundles[0].n).toBeGreaterThanOrEqual(acknowledged.length);
}

describe('a database outage under load', () => {
  it('with the embedded PostgreSQL stopped (SIGINT): uploads are spooled, it is restarted, and every acknowledged upload is stored once', async () => {
    const dataDir = tempDir();
    const server = await startChild({ DATA_DIR: dataDir });
    const load = uploadLoad(() => server.baseUrl, 0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGINT');
    let maxSpooled = 0;
    const watching = setInterval(() => (maxSpooled = Math.max(maxSpooled, spooledCount(dataDir))), 20);
    await waitFor('the server has restarted its database', async () => /the embedded PostgreSQL is running again/.test(server.output()));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await load.stop();
    clearInterval(watching);

    expect(load.acknowledged.length).toBeGreaterThan(50);
    // every upload was answered 201: none was refused or failed while the database was down
    expect([...load.statuses.keys()]).toEqual([201]);
    expect(maxSpooled, 'uploads went to the spool while the database was down').toBeGreaterThan(0);
    const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
    const port = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
    const db = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', password, database: 'dcs' });
    try {
      await expectAllStoredOnce(db, dataDir, load.acknowledged, true);
    } finally {
      await db.end();
    }
  });

  describe('on a database behind a proxy', () => {
    let db: TestDatabase;
    let proxy: TcpProxy;
    let databaseUrl: string;
    const setUp = async () => {
      db = await createTestDatabase();
      const url = new URL(db.url);
      proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      await proxy.start();
      const proxied = new URL(db.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      proxied.searchParams.delete('host');
      databaseUrl = proxied.toString();
    };
    const tearDown = async () => {
      await proxy.stop();
      await db.drop();
    };

    it('loses and duplicates nothing when the server is killed (-9) while the spool drains', async () => {
      await setUp();
      try {
        const dataDir = tempDir();
        let server = await startChild({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
        await proxy.stop();
        const load = uploadLoad(() => server.baseUrl, 0);
        await waitFor('300 uploads are spooled', async () => spooledCount(dataDir) >= 300);
        await load.stop();
        expect([...load.statuses.keys()]).toEqual([201]);
        const spooled = spooledCount(dataDir);
        expect(spooled).toBe(load.acknowledged.length);

        await proxy.start();
        await waitFor('the drain has begun', async () => (await db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n > 0, 30_000, 5);
        await kill9(server);
        const inserted = (await db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n;
        expect(inserted, 'the kill came in the middle of the drain').toBeGreaterThan(0);
        expect(inserted, 'the kill came in the middle of the drain').toBeLessThan(spooled);
        expect(spooledCount(dataDir)).toBeGreaterThan(0);

        server = await startChild({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
        await expectAllStoredOnce(db.pool, dataDir, load.acknowledged, true);
      } finally {
        await tearDown();
      }
    });

    it('loses no acknowledged upload when the server is killed (-9) under load', async () => {
      await setUp();
      try {
        const dataDir = tempDir();
        let server = await startChild({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
        const load = uploadLoad(() => server.baseUrl, 0);
        await waitFor('100 uploads are acknowledged', async () => load.acknowledged.length >= 100);
        await kill9(server);
        await new Promise((resolve) => setTimeout(resolve, 300));
        server = await startChild({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
        const before = load.acknowledged.length;
        await waitFor('more uploads are acknowledged after the restart', async () => load.acknowledged.length > before + 50);
        await load.stop();
        await expectAllStoredOnce(db.pool, dataDir, load.acknowledged, false);
      } finally {
        await tearDown();
      }
    });
  });
});
