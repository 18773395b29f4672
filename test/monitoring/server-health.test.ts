/** server-health: each snapshot's counts after real uploads and processing, and the 30-day pruning. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { hoursAgo, pointAt, runOk } from './support.ts';

let server: TestServer;
const run = () => runOk(server.db.pool, server.config, serverHealthJob);

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('server-health', () => {
  it('records bundles, queue, points and the age of the oldest pending bundle', async () => {
    await postGzip(server, [pointAt('sh-a', hoursAgo(1)), pointAt('sh-a', hoursAgo(2)), pointAt('sh-b', hoursAgo(1))]);
    await postGzip(server, [pointAt('sh-b', hoursAgo(3)), pointAt('sh-b', hoursAgo(4))]);
    await server.process();
    const pending = await postGzip(server, [pointAt('sh-c', hoursAgo(1))]);
    await server.db.pool.query(`UPDATE bundles SET received_at = now() - interval '90 seconds' WHERE id = $1`, [pending]);

    const first = await run();
    expect(first).toMatchObject({ bundlesReceived: 3, bundlesAdded: 0, bundlesPending: 1, bundlesErrored: 0, pointsTotal: 5, pointsAdded: 0, pruned: 0 });
    expect(first.processingLagSeconds).toBeGreaterThanOrEqual(90);
    expect(first.processingLagSeconds).toBeLessThan(600);

    const broken = await postGzip(server, [pointAt('sh-d', hoursAgo(1))]);
    await server.db.pool.query(`UPDATE bundles SET body = 'garbage', compression = 'gzip' WHERE id = $1`, [broken]);
    await server.process();
    expect(await run()).toMatchObject({ bundlesReceived: 4, bundlesAdded: 1, bundlesPending: 0, bundlesErrored: 1, pointsTotal: 6, pointsAdded: 1, processingLagSeconds: 0 });

    const { rows } = await server.db.pool.query('SELECT * FROM server_health_snapshots ORDER BY taken_at');
    expect(rows.map((r) => [r.bundles_received, r.bundles_added, r.bundles_pending, r.bundles_errored, r.points_total, r.points_added])).toEqual([
      [3, 0, 1, 0, 5, 0],
      [4, 1, 0, 1, 6, 1],
    ]);
  });

  it('keeps 30 days of snapshots', async () => {
    await server.db.pool.query(
      `INSERT INTO server_health_snapshots (taken_at, bundles_received, bundles_added, bundles_pending, bundles_errored, points_total, points_added)
       VALUES (now() - interval '31 days', 0, 0, 0, 0, 0, 0), (now() - interval '29 days', 0, 0, 0, 0, 0, 0)`,
    );
    expect(await run()).toMatchObject({ pruned: 1, bundlesAdded: 0 });
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM server_health_snapshots WHERE taken_at < now() - interval '30 days'`);
    expect(rows[0].n).toBe(0);
  });
});
