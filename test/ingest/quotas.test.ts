/**
 * Public uploads under quotas (issue 17): per-address rates and bytes in flight are checked before
 * a body is read and refused in a way every client resends; undecodable uploads are kept only up
 * to ERRORED_UPLOADS_MAX_BYTES, the rest answered as before and counted (dcs status, /metrics).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readStatus } from '../../src/monitoring/status.ts';
import { BUNDLE_ADDED, expectReply, send, UNPARSABLE_BUNDLE } from '../helpers/replies.ts';
import { FORM, gzipForm, samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';

const countBundles = async (server: ReturnType<typeof useTestServer>) => (await server.db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n as number;

describe('UPLOAD_RATE_PER_MINUTE', () => {
  const server = useTestServer({ UPLOAD_RATE_PER_MINUTE: '3' });

  it('refuses an address over its rate with 429 and a reply every client sends again, storing nothing', async () => {
    for (let i = 0; i < 3; i++) expectReply(await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(i)) }), 201, BUNDLE_ADDED);
    // Older clients count any JSON reply as success: they get text. 2026 clients (X-PDK-IDENTIFIER) resend on a non-2xx JSON reply.
    const old = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(3)) });
    expectReply(old, 429, 'The server cannot store uploads right now; please retry later.\n', 'text/plain');
    expect(Number(old.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const current = await send(server, 'add-bundle.json', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-pdk-identifier': 'p-1' }, body: JSON.stringify(samples(4)) });
    expectReply(current, 429, '{"message": "The server cannot store uploads right now; please retry later.", "added": false}');
    expect(await countBundles(server)).toBe(3);
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toContain('dcs_uploads_refused_total{reason="rate-limited"} 2');
  });
});

describe('UPLOAD_MAX_INFLIGHT_BYTES', () => {
  const server = useTestServer({ UPLOAD_MAX_INFLIGHT_BYTES: '2000' });

  it('holds an upload that does not fit until the one in flight is done, then stores it', async () => {
    // A slow client: its headers declare 1,500 bytes, and it sends them in two halves.
    const body = gzipForm(samples(5));
    const declared = Buffer.from(body + ' '.repeat(1500 - body.length)); // trailing spaces are part of the last field
    expect(declared.length).toBe(1500);
    const slow = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => slow.once('connect', resolve));
    let slowReply = '';
    slow.on('data', (data) => (slowReply += data.toString()));
    slow.write(`POST /data/add-bundle.json HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1500\r\n\r\n`);
    slow.write(declared.subarray(0, 750));
    await new Promise((resolve) => setTimeout(resolve, 200));

    let done = false;
    const next = send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(6)).padEnd(1000, ' ') }).then((reply) => {
      done = true;
      return reply;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(done, 'the second upload waits while the first holds 1,500 of 2,000 bytes').toBe(false);
    slow.write(declared.subarray(750));
    expectReply(await next, 201, BUNDLE_ADDED);
    for (let waited = 0; !slowReply.includes('"added": true}') && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    slow.destroy();
    expect(slowReply).toMatch(/^HTTP\/1.1 201/);
    expect(await countBundles(server)).toBe(2);
  });
});

describe('ERRORED_UPLOADS_MAX_BYTES', () => {
  const server = useTestServer({ ERRORED_UPLOADS_MAX_BYTES: '3000' });

  it('keeps undecodable uploads up to the limit, then answers the same but keeps and counts no more', async () => {
    const junk = () => randomBytes(1000); // does not compress: kept as sent
    for (let i = 0; i < 4; i++) {
      const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: junk() });
      expectReply(reply, 400, UNPARSABLE_BUNDLE);
    }
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n, sum(octet_length(body))::int AS bytes FROM bundles WHERE status = 'errored'`);
    expect(rows[0]).toEqual({ n: 3, bytes: 3000 });
    const status = await readStatus(server.db.pool, server.config.spoolDir);
    expect(status).toMatchObject({ erroredUploadBytes: 3000, erroredUploadsNotKept: 1 });
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toContain('dcs_errored_upload_bytes 3000');
    expect(metrics).toContain('dcs_errored_uploads_not_kept_total 1');
    // good uploads are not limited by it
    expectReply(await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(7)) }), 201, BUNDLE_ADDED);
  });
});
