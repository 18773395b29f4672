import { promisify } from 'node:util';
import { gunzip, gzipSync } from 'node:zlib';
import { checkPayload, payloadLimits } from '/work/wt/uploads/src/payload/check-payload.ts';
import { toStorableJson } from '/work/wt/uploads/src/payload/json-text.ts';
import { buildUploads } from '/work/wt/uploads/bench/uploads.ts';
const gunzipAsync = promisify(gunzip);
const limits = payloadLimits({ maxInflatedBytes: 64 * 2 ** 20, maxPointBytes: 16 * 2 ** 20, maxBundlePoints: 100000 });
const uploads = buildUploads().slice(0, 300);
const payloads = uploads.map((u: any) => u.stored);
console.log('uploads', payloads.length, 'avg gzip bytes', Math.round(payloads.reduce((s: number, p: any) => s + p.body.length, 0) / payloads.length));
async function run(name: string, f: (p: any) => Promise<unknown>) {
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    for (const p of payloads) await f(p);
    const c = process.cpuUsage(c0); const t = performance.now() - t0;
    console.log(`${name}: ${(t / payloads.length * 1000).toFixed(0)} us wall, ${((c.user + c.system) / payloads.length).toFixed(0)} us cpu per upload`);
  }
}
await run('old gunzip+parse', async (p) => JSON.parse(toStorableJson((await gunzipAsync(p.body, { chunkSize: 256 * 1024 })).toString('utf8'))));
await run('new stream+scan', (p) => checkPayload({ ...p, encrypted: false, nonce: null }, undefined, limits));
