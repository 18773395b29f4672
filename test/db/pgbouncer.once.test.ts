/**
 * T4 (scale-out.md §5.4): the web tier behind a transaction-mode PgBouncer (Debian's `pgbouncer`;
 * skipped when it is not installed). `dcs serve`'s pool goes through PgBouncer, its start-up
 * migrations and a worker's LISTEN through DATABASE_DIRECT_URL; uploads, a spool drain, the
 * dashboard login and /metrics work, and a worker on a direct connection processes every upload.
 * Once-only (a pooler of its own): not repeated on other Node and PostgreSQL versions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { processUntilEmpty } from '../../src/processing/process-bundles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';
import { postGzip } from '../processing/support.ts';
import { hoursAgo, pointAt } from '../monitoring/support.ts';

const installed = spawnSync('pgbouncer', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Starts pgbouncer in transaction mode in front of `url`'s server; resolves once it answers. */
async function startPgBouncer(url: string): Promise<{ url: string; process: ChildProcess; dir: string }> {
  const server = new URL(url);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-pgbouncer-'));
  fs.chmodSync(dir, 0o777); // pgbouncer drops to the postgres user when started as root
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(ini, [
    '[databases]',
    // password only when there is one: an empty `password=` is a syntax error to pgbouncer
    `* = host=${server.searchParams.get('host') ?? server.hostname} port=${server.port || 5432} user=${decodeURIComponent(server.username)}${server.password ? ` password=${decodeURIComponent(server.password)}` : ''}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = any',
    'pool_mode = transaction',
    'default_pool_size = 4',
    'max_client_conn = 200',
    'ignore_startup_parameters = extra_float_digits',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    '',
  ].join('\n'), { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: 'ignore' });
  const through = new URL(url);
  through.host = `127.0.0.1:${port}`;
  through.searchParams.delete('host'); // the server's socket directory, when it listens on one
  through.username = 'through-pgbouncer';
  through.password = '';
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: through.toString() });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt > 100) {
        child.kill('SIGTERM');
        throw new Error(`pgbouncer did not start: ${(error as Error).message}; ${fs.readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8').slice(-2000)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url: through.toString(), process: child, dir };
}

describe.skipIf(!installed)('behind a transaction-mode PgBouncer', () => {
  let db: TestDatabase;
  let bouncer: Awaited<ReturnType<typeof startPgBouncer>>;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    bouncer = await startPgBouncer(db.url);
    server = await startTestServer({ DATABASE_URL: bouncer.url, DATABASE_DIRECT_URL: db.url, DB_POOL_SIZE: '8' }, { db });
  });
  afterAll(async () => {
    await server?.stop();
    bouncer?.process.kill('SIGTERM');
    await db?.drop();
  });

  it('takes uploads, logs staff in and answers /metrics; a direct worker processes them all', async () => {
    const uploads = await Promise.all(Array.from({ length: 30 }, (_, i) => postGzip(server, [pointAt(`pgb-${i % 5}`, hoursAgo(1)), pointAt(`pgb-${i % 5}`, hoursAgo(2))])));
    expect(uploads).toHaveLength(30);

    const staff = await createStaff(server.db.pool);
    const { cookie } = await logIn(server.baseUrl, staff.username, staff.password);
    expect((await fetch(`${server.baseUrl}/data/system-health`, { headers: { cookie } })).status).toBe(200);

    // dcs worker: straight to PostgreSQL (its job locks and prepared statement need a session)
    const direct = new pg.Pool({ connectionString: db.url, max: 3 });
    try {
      await processUntilEmpty({ pool: direct, config: server.config, log: createLogger('silent') });
    } finally {
      await direct.end();
    }
    const { rows: [stored] } = await db.pool.query(`SELECT count(*)::int AS points, count(DISTINCT source)::int AS sources FROM data_points WHERE source LIKE 'pgb-%'`);
    expect(stored).toEqual({ points: 60, sources: 5 });
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^dcs_bundles_received_total 30$/m);
    expect(metrics).toMatch(/^dcs_bundles_pending 0$/m);
    expect(metrics).toMatch(/^dcs_points_stored_total 60$/m);
    // and the web process's connections were PgBouncer's clients
    const dbName = new URL(db.url).pathname.slice(1);
    const logins = fs.readFileSync(path.join(bouncer.dir, 'pgbouncer.log'), 'utf8').split('\n').filter((line) => line.includes(`: ${dbName}/`) && line.includes('login attempt'));
    expect(logins.length).toBeGreaterThanOrEqual(2);
  });
});
