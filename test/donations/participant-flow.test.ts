/**
 * The participant's side of a donation over real HTTP, as a browser does it (ecosystem-api.md
 * §2.8.1 steps 3-6): the enrollment server's signed link, the instructions page, the upload link
 * it rotates, files sealed as they stream in, refusals while streaming, and what an identifier
 * alone (§4.4.3) or an old link can do: nothing.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { generateSecretKey, sealSecret } from '../../src/crypto/secretbox.ts';
import { openSealedBox } from '../../src/crypto/sealed-box.ts';
import { useTestServer } from '../helpers/server.ts';

const LINK_KEY = generateSecretKey();
const FILES = nacl.box.keyPair();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const server = useTestServer({
  PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: LINK_KEY,
  DONATION_PUBLIC_KEY: b64(FILES.publicKey),
  DONATION_HASH_KEY: b64(crypto.randomBytes(32)),
  DONATION_MAX_FILE_MB: '3',
});
const AMAZON_CSV = fs.readFileSync(new URL('../fixtures/donations/amazon-consumer.csv', import.meta.url));

function autoToken(identifier: string, metadata: object = { amazon_start: '01/01/2022' }): string {
  const clear = `${identifier}:${identifier}:amazon:${JSON.stringify(metadata, null, 2)}`;
  return sealSecret(Buffer.from(clear), Buffer.from(LINK_KEY, 'base64')).toString('base64');
}

/** The participant's browser: the task list's link, then the instructions page's button. Returns the upload path. */
async function openUploadPage(identifier: string): Promise<string> {
  const auto = autoToken(identifier);
  const start = await fetch(`${server.baseUrl}/data/external/start?auto=${encodeURIComponent(auto)}`);
  expect(start.status).toBe(200);
  const page = await start.text();
  expect(page).toContain('Amazon Order History');
  const hidden = /name="auto" value="([^"]+)"/.exec(page)![1].replaceAll('&#x2B;', '+').replaceAll('&#x3D;', '=');
  const posted = await fetch(`${server.baseUrl}/data/external/start`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ auto: hidden }).toString(),
  });
  expect(posted.status).toBe(303);
  const location = posted.headers.get('location')!;
  expect(location).toMatch(/^\/data\/external\/upload\/[0-9a-f]{64}$/);
  return location;
}

async function upload(path: string, files: { field: string; name: string; bytes: Buffer }[]): Promise<Response> {
  const form = new FormData();
  for (const file of files) form.append(file.field, new Blob([new Uint8Array(file.bytes)]), file.name);
  return fetch(`${server.baseUrl}${path}`, { method: 'POST', body: form, redirect: 'manual' });
}

async function filesOf(identifier: string) {
  const { rows } = await server.db.pool.query(
    `SELECT f.id::int, f.state, f.name, f.size::int, f.sha256, f.participant_message, f.staff_reason
     FROM donation_files f JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = $1 ORDER BY f.id`,
    [identifier],
  );
  return rows;
}

describe('the upload link', () => {
  it('is made by the signed link only, is rotated by each pass through the start page, and seals files as they arrive', async () => {
    const first = await openUploadPage('31415926');
    const page = await (await fetch(`${server.baseUrl}${first}`)).text();
    expect(page).toContain('name="amazon"');
    expect(page).toContain('enctype="multipart/form-data"');

    const second = await openUploadPage('31415926');
    expect(second).not.toBe(first);
    // the old link now leads back to the start, as the original's unknown token did
    const old = await fetch(`${server.baseUrl}${first}`, { redirect: 'manual' });
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toBe('/data/external/start');
    expect((await upload(first, [{ field: 'amazon', name: 'orders.csv', bytes: AMAZON_CSV }])).status).toBe(302);
    expect(await filesOf('31415926')).toEqual([]);

    const sent = await upload(second, [{ field: 'amazon', name: 'Items.csv', bytes: AMAZON_CSV }]);
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`${second}?done=uploaded`);
    const [file] = await filesOf('31415926');
    expect(file).toMatchObject({ state: 'received', name: 'Items.csv', size: AMAZON_CSV.length });
    expect(file.sha256).toEqual(crypto.createHash('sha256').update(AMAZON_CSV).digest());
    // stored sealed to the files' public key: opened with its secret half, the chunks are the file
    const { rows: chunks } = await server.db.pool.query('SELECT sealed FROM donation_file_chunks WHERE file_id = $1 ORDER BY n', [file.id]);
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0].sealed).includes(AMAZON_CSV.subarray(0, 40))).toBe(false);
    expect(openSealedBox(chunks[0].sealed, FILES.secretKey)).toEqual(AMAZON_CSV);
    const listed = await (await fetch(`${server.baseUrl}${second}?done=uploaded`)).text();
    expect(listed).toContain('File uploaded and saved successfully');
    expect(listed).toContain('Items.csv');
    expect(listed).toContain('http-equiv="refresh"');
  });

  it('cannot be had or used with a participant identifier alone', async () => {
    await openUploadPage('27182818');
    const before = await server.db.pool.query(`SELECT upload_token_sha256 FROM donation_requests WHERE identifier = '27182818'`);
    // the original's takeover: POST start with the identifier (and e-mail) fields, no signed link
    const takeover = await fetch(`${server.baseUrl}/data/external/start`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ identifier: '27182818', email: 'x@example.org', amazon: 'on', step: 'basic_details' }).toString(),
    });
    expect(takeover.status).toBe(400);
    expect(takeover.headers.get('location')).toBeNull();
    // a signed link for another identifier does not touch this one
    await openUploadPage('11111111');
    const after = await server.db.pool.query(`SELECT upload_token_sha256 FROM donation_requests WHERE identifier = '27182818'`);
    expect(after.rows[0].upload_token_sha256).toEqual(before.rows[0].upload_token_sha256);
    // guessed links and ids lead nowhere, and no file can be downloaded
    for (const path of ['/data/external/upload/27182818', `/data/external/upload/${'0'.repeat(64)}`]) {
      const response = await fetch(`${server.baseUrl}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(302);
    }
    expect((await fetch(`${server.baseUrl}/data/external/download/1`, { redirect: 'manual' })).status).not.toBe(200);
  });
});

describe('files refused while they stream in', () => {
  it('refuses a file over DONATION_MAX_FILE_MB, a ZIP or PDF given as the CSV, and an empty file, keeping the reasons and no bytes', async () => {
    const path = await openUploadPage('16180339');
    const big = Buffer.concat([AMAZON_CSV, Buffer.alloc(3 * 1024 * 1024 + 10, 0x41)]);
    const response = await upload(path, [
      { field: 'amazon', name: 'big.csv', bytes: big },
      { field: 'amazon', name: 'orders.zip', bytes: Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), crypto.randomBytes(200)]) },
      { field: 'amazon', name: 'invoice.pdf', bytes: Buffer.from('%PDF-1.7\n...') },
      { field: 'amazon', name: 'empty.csv', bytes: Buffer.alloc(0) },
      { field: 'chatgpt', name: 'not-requested.zip', bytes: AMAZON_CSV },
    ]);
    expect(response.headers.get('location')).toBe(`${path}?done=refused`);
    const files = await filesOf('16180339');
    expect(files.map((f) => [f.name, f.state])).toEqual([['big.csv', 'refused'], ['orders.zip', 'refused'], ['invoice.pdf', 'refused'], ['empty.csv', 'refused']]);
    expect(files[0].participant_message).toMatch(/larger than the 3 MB/);
    expect(files[1].participant_message).toMatch(/ZIP file\. Open it and upload the CSV/);
    expect(files[2].participant_message).toMatch(/not a CSV file/);
    expect(files[3].participant_message).toMatch(/empty/);
    expect(files.every((f) => f.staff_reason)).toBe(true);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM donation_file_chunks WHERE file_id = ANY($1::bigint[])', [files.map((f) => f.id)]);
    expect(rows[0].n).toBe(0);
    const page = await (await fetch(`${server.baseUrl}${path}?done=refused`)).text();
    expect(page).toContain('larger than the 3 MB this study accepts');
  });

  it('answers a body that is not a multipart form with the page and an error, and stores nothing', async () => {
    const path = await openUploadPage('14142135');
    const response = await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'amazon=1', signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Unable to upload the file');
    const truncated = await fetch(`${server.baseUrl}${path}`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="amazon"; filename="a.csv"\r\n\r\nOrder Date,Order ID\r\n1/2/23,1',
    });
    expect(truncated.headers.get('location')).toBe(`${path}?done=failed`);
    expect(await filesOf('14142135')).toEqual([]);
  });
});
