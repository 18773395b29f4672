import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBenchServer, stop, rssMb } from '/work/wt/uploads/bench/processes.ts';
const { server, port, db } = await startBenchServer('/work/wt/uploads', '/work/wt/uploads/.bench/one-big');
const body = randomBytes(32 * 1024 * 1024 - 1024);
for (let i = 0; i < 4; i++) {
  const t = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await r.text();
  console.log(r.status, ((performance.now() - t) / 1000).toFixed(2), 's', rssMb(server.pid!).toFixed(0), 'MB');
}
await db.end(); await stop(server);
