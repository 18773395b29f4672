import { randomBytes } from 'node:crypto';
import { startBenchServer, stop } from '/work/wt/uploads/bench/processes.ts';
const { server, db } = await startBenchServer('/work/wt/uploads', '/work/wt/uploads/.bench/one-big');
const body = randomBytes(32 * 1024 * 1024 - 1024);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await db.query(`INSERT INTO bundles (endpoint, transport, compression, body, status, error) VALUES ('bundle','json','none',$1,'errored','x')`, [body]);
  console.log('insert', ((performance.now() - t) / 1000).toFixed(2));
}
await db.end(); await stop(server);
