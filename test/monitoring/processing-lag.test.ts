/**
 * The processing lag after a spool drain: an upload the spool kept through a two-hour outage is
 * inserted when the spool drains, after uploads that arrived later, so it has the highest id and
 * the oldest received_at. /metrics, `dcs status`, the System health page and the server-health
 * snapshot must all report its age: the true lag, not that of the lowest pending id.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool } from '../../src/ingest/spool.ts';
import { createLogger } from '../../src/log.ts';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { runDcs } from '../helpers/dcs.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';
import { postGzip } from '../processing/support.ts';
import { hoursAgo, pointAt, runOk } from './support.ts';

const OUTAGE_HOURS = 2;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

/** Waits until `condition` holds (the spool drains every 2 s). */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the spool did not drain');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('processing lag', () => {
  it('is the age of the oldest pending upload everywhere, when a drained upload has the highest id', async () => {
    const recent = await postGzip(server, [pointAt('lag-recent', hoursAgo(0.1))]);
    // What the server's spool held since the outage began, as it wrote it then.
    const receivedAt = hoursAgo(OUTAGE_HOURS);
    await new Spool(server.config.spoolDir, 1 << 30, createLogger('silent')).write({
      receipt: randomUUID(),
      receivedAt,
      bundle: {
        endpoint: 'bundle', transport: 'form', contentType: 'application/x-www-form-urlencoded', compression: 'gzip', encrypted: false,
        nonce: undefined, body: gzipSync(JSON.stringify([pointAt('lag-spooled', receivedAt)])), identifier: undefined, files: [],
      },
    });
    await waitUntil(async () => (await server.db.pool.query(`SELECT 1 FROM bundles WHERE id > $1`, [recent])).rowCount === 1);
    const { rows } = await server.db.pool.query(`SELECT id::int, received_at FROM bundles WHERE status = 'pending' ORDER BY id`);
    expect(rows.map((r) => r.id)[0]).toBe(recent);
    expect(rows[1].received_at.getTime()).toBe(receivedAt.getTime());

    const trueLag = () => (Date.now() - receivedAt.getTime()) / 1000;
    const expectTrueLag = (seconds: number, before: number) => {
      expect(seconds).toBeGreaterThanOrEqual(Math.floor(before) - 1);
      expect(seconds).toBeLessThanOrEqual(trueLag() + 1);
    };

    let before = trueLag();
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expectTrueLag(Number(/^dcs_processing_lag_seconds (\S+)$/m.exec(metrics)![1]), before);

    before = trueLag();
    const status = await runDcs(['status', '--json'], { databaseUrl: server.db.url, env: { DATA_DIR: server.config.dataDir } });
    expect(status.code, status.stderr).toBe(0);
    expectTrueLag(JSON.parse(status.stdout).processingLagSeconds, before);

    before = trueLag();
    const snapshot = await runOk(server.db.pool, server.config, serverHealthJob);
    expectTrueLag(snapshot.processingLagSeconds, before);

    await createStaff(server.db.pool, 'lag-admin', 'admin password', true);
    const login = await logIn(server.baseUrl, 'lag-admin', 'admin password');
    const page = await (await fetch(`${server.baseUrl}/data/system-health`, { headers: { cookie: login.cookie } })).text();
    expect(/<dt>Processing lag<\/dt><dd>([^<]*)<\/dd>/.exec(page)?.[1]).toBe(`${OUTAGE_HOURS.toFixed(1)} h`);
  });
});
