/**
 * Every request shape PDK clients send (webmunk-clients.md §1.2, pdk-server.md §4.1–4.4), over real
 * HTTP: the exact reply, what lands in `bundles`, and the data points processing makes of it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { openBox, publicKeyOf, sealBox } from '../../src/crypto/box.ts';
import { COMPRESS_AT_REST_MIN_BYTES } from '../../src/ingest/compress-at-rest.ts';
import { FORM, gzipForm, samples, type Point } from '../helpers/samples.ts';
import { BUNDLE_ADDED, BUNDLE_ADDED_PRETTY, expectReply, POINT_ADDED, send } from '../helpers/replies.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

// Literal reply bytes (Python json.dumps formatting), written out so a change in src/ fails here.
const DISABLED = 'Data collection has been disabled and incoming transmissions are being discarded.';

interface Vector {
  serverSecretKey: string; serverPublicKey: string; clientSecretKey: string; clientPublicKey: string; nonce: string;
  points: Point[];
  cases: Record<'none' | 'gzip', { plaintext: string; ciphertext: string }>;
}
/** Made by test/fixtures/make-pynacl-vector.py with PyNaCl; committed, so no Python is needed here. */
const VECTOR: Vector = JSON.parse(readFileSync(new URL('../fixtures/pynacl-vector.json', import.meta.url), 'utf8'));
const b64 = (text: string) => Buffer.from(text, 'base64');
const KEYS = { serverSecretKey: new Uint8Array(b64(VECTOR.serverSecretKey)), clientPublicKey: new Uint8Array(b64(VECTOR.clientPublicKey)) };
const SERVER_PUBLIC = new Uint8Array(b64(VECTOR.serverPublicKey));
const CLIENT_SECRET = new Uint8Array(b64(VECTOR.clientSecretKey));
const KEY_ENV = { PDK_SERVER_KEY: VECTOR.serverSecretKey, PDK_CLIENT_KEY: VECTOR.clientPublicKey };

interface BundleRow {
  id: number; endpoint: string; transport: string; compression: string; encrypted: boolean;
  nonce: Buffer | null; identifier: string | null; status: string; body: Buffer; compressed_at_rest: boolean;
}

async function storedBundles(server: TestServer): Promise<BundleRow[]> {
  const { rows } = await server.db.pool.query<BundleRow>(
    'SELECT id, endpoint, transport, compression, encrypted, nonce, identifier, status, body, compressed_at_rest FROM bundles ORDER BY id');
  return rows;
}

/**
 * The one stored bundle, checked against `expected` (what the client sent: its compression and
 * payload bytes). Uncompressed payloads of 2 KB or more are stored gzipped and flagged
 * (compress-at-rest.ts); gunzipped, they must be exactly the payload received.
 */
async function expectOneBundle(server: TestServer, expected: Omit<BundleRow, 'id' | 'nonce' | 'status' | 'body' | 'compressed_at_rest'>, body: Buffer): Promise<BundleRow> {
  const rows = await storedBundles(server);
  expect(rows).toHaveLength(1);
  const { id: _id, nonce, body: stored, compressed_at_rest: atRest, ...rest } = rows[0];
  const compressedHere = expected.compression === 'none' && !expected.encrypted && body.length >= COMPRESS_AT_REST_MIN_BYTES;
  expect(atRest, 'compressed at rest').toBe(compressedHere);
  expect(rest).toEqual({ ...expected, compression: compressedHere ? 'gzip' : expected.compression, status: 'pending' });
  expect(nonce === null, 'a nonce only with encryption').toBe(!expected.encrypted);
  expect((atRest ? gunzipSync(stored) : stored).equals(body), 'stored payload bytes').toBe(true);
  if (atRest) expect(stored.length, 'gzip makes sample JSON smaller').toBeLessThan(body.length / 2);
  return rows[0];
}

const meta = (point: Point) => point['passive-data-metadata']!;

/** Processes the queue; the data points must be exactly `expected`, as sent plus encrypted_transmission. */
async function expectPoints(server: TestServer, expected: Point[], encrypted = false): Promise<void> {
  const result = await server.process();
  expect(result).toMatchObject({ failed: 0, added: expected.length, rejected: 0 });
  const { rows } = await server.db.pool.query('SELECT source, generator_id, properties FROM data_points ORDER BY created, id');
  const byTime = [...expected].sort((a, b) => Number(meta(a).timestamp) - Number(meta(b).timestamp));
  expect(rows).toEqual(byTime.map((point) => ({
    source: String(meta(point).source),
    generator_id: meta(point)['generator-id'],
    properties: { ...point, 'passive-data-metadata': { ...meta(point), encrypted_transmission: encrypted } },
  })));
  const statuses = await server.db.pool.query('SELECT DISTINCT status FROM bundles');
  expect(statuses.rows).toEqual([{ status: 'processed' }]);
}

async function expectNothingStored(server: TestServer): Promise<void> {
  const { rows } = await server.db.pool.query('SELECT (SELECT count(*) FROM bundles) AS bundles, (SELECT count(*) FROM bundle_files) AS files');
  expect(rows[0]).toEqual({ bundles: 0, files: 0 });
}

async function reset(server: TestServer): Promise<void> {
  await server.db.pool.query('TRUNCATE bundles, bundle_files, data_points, data_point_files, data_sources RESTART IDENTITY CASCADE');
}

/** multipart/form-data as Chrome writes it. */
function multipart(parts: { name: string; filename?: string; type?: string; data: Buffer | string }[]) {
  const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** An encrypted form upload as the Android client makes it: compress, base64, then encrypt. */
function encryptedForm(points: Point[], compression: 'none' | 'gzip', wrapLines = false) {
  const json = Buffer.from(JSON.stringify(points, null, 2));
  const plain = compression === 'gzip' ? Buffer.from(gzipSync(json).toString('base64')) : json;
  const nonce = randomBytes(24);
  const ciphertext = Buffer.from(sealBox(plain, nonce, SERVER_PUBLIC, CLIENT_SECRET));
  const base64 = ciphertext.toString('base64');
  // Android's Base64 CRLF flag: a CRLF after every 76 characters and at the end.
  const wrap = (text: string) => (wrapLines ? `${text.match(/.{1,76}/g)!.join('\r\n')}\r\n` : text);
  const payload = wrap(base64);
  if (wrapLines) expect(payload.split('\r\n').length).toBeGreaterThan(3);
  return { form: new URLSearchParams({ encrypted: 'true', compression, nonce: wrap(nonce.toString('base64')), payload }).toString(), ciphertext, nonce };
}

describe('accepted upload variants', () => {
  const server = useTestServer(KEY_ENV);
  beforeEach(async () => {
    await reset(server);
  });

  it('POST form, compression=gzip (G1b/G2), with X-PDK-IDENTIFIER', async () => {
    const points = samples(27, 33, 48);
    const form = gzipForm(points);
    const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: { ...FORM, 'x-pdk-identifier': 'bric-0a93f1' }, body: form });
    expectReply(reply, 201, BUNDLE_ADDED);
    const gzipBytes = b64(new URLSearchParams(form).get('payload')!);
    expect(gzipBytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'form', compression: 'gzip', encrypted: false, identifier: 'bric-0a93f1' }, gzipBytes);
    await expectPoints(server, points);
  });

  it('POST form without compression: plain JSON payload', async () => {
    const points = samples(0, 7, 11);
    const json = JSON.stringify(points);
    const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ payload: json }).toString() });
    expectReply(reply, 201, BUNDLE_ADDED);
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'form', compression: 'none', encrypted: false, identifier: null }, Buffer.from(json));
    await expectPoints(server, points);
  });

  it('POST multipart (G1c) with an attachment part linked through image_url@', async () => {
    const points = samples(13, 15);
    expect(points[1]['image_url@']).toBe('anker-511-charger-nano.jpeg');
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), randomBytes(3000), Buffer.from([0xff, 0xd9])]);
    const json = JSON.stringify(points, null, 2);
    const { body, contentType } = multipart([
      { name: 'payload', data: json },
      { name: 'anker-511-charger-nano.jpeg', filename: 'blob', type: 'image/jpeg', data: jpeg },
    ]);
    const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: { 'content-type': contentType }, body });
    expectReply(reply, 201, BUNDLE_ADDED);
    const bundle = await expectOneBundle(server, { endpoint: 'bundle', transport: 'multipart', compression: 'none', encrypted: false, identifier: null }, Buffer.from(json));
    const files = await server.db.pool.query('SELECT id, bundle_id, field_name, filename, content_type, size, content FROM bundle_files');
    expect(files.rows).toHaveLength(1);
    const { id: fileId, content, ...file } = files.rows[0];
    expect(file).toEqual({ bundle_id: bundle.id, field_name: 'anker-511-charger-nano.jpeg', filename: 'blob', content_type: 'image/jpeg', size: jpeg.length });
    expect(content.equals(jpeg), 'stored file bytes').toBe(true);
    await expectPoints(server, points);
    const links = await server.db.pool.query(
      `SELECT p.generator_id, p.properties ->> 'image_url@' AS name, l.file_id, l.key
       FROM data_point_files l JOIN data_points p ON p.created = l.point_created AND p.content_hash = l.point_hash`);
    expect(links.rows).toEqual([{ generator_id: 'search-mirror-result', name: 'anker-511-charger-nano.jpeg', file_id: fileId, key: 'image_url@' }]);
  });

  it('PUT gzip body with Content-Encoding: gzip, a bearer token and X-PDK-IDENTIFIER (G2d)', async () => {
    const points = samples(29, 30, 31);
    const gzipBytes = gzipSync(Buffer.from(JSON.stringify(points, null, 2)));
    const reply = await send(server, 'add-bundle.json', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer x', 'x-pdk-identifier': 'bric-0a93f1' },
      body: gzipBytes,
    });
    expectReply(reply, 201, BUNDLE_ADDED);
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'put', compression: 'gzip', encrypted: false, identifier: 'bric-0a93f1' }, gzipBytes);
    await expectPoints(server, points);
  });

  it('PUT raw JSON', async () => {
    const points = samples(39, 40);
    const json = Buffer.from(JSON.stringify(points));
    const reply = await send(server, 'add-bundle.json', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: json });
    expectReply(reply, 201, BUNDLE_ADDED);
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'put', compression: 'none', encrypted: false, identifier: null }, json);
    await expectPoints(server, points);
  });

  it('CREATE raw JSON (G0/G1a) gets the pretty reply', async () => {
    const points = samples(18, 19, 20);
    const json = Buffer.from(JSON.stringify(points));
    const reply = await send(server, 'add-bundle.json', { method: 'CREATE', headers: { 'content-type': 'application/json' }, body: json });
    expectReply(reply, 201, BUNDLE_ADDED_PRETTY);
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'create', compression: 'none', encrypted: false, identifier: null }, json);
    await expectPoints(server, points);
  });

  it.each([
    ['a small one is stored as received', 1],
    ['one of 2 KB or more is stored gzipped, flagged, and processed the same', 12],
  ] as const)('uncompressed upload: %s', async (_name, count) => {
    const points = samples(...Array.from({ length: count }, (_, i) => i + 1));
    const json = Buffer.from(JSON.stringify(points, null, 2));
    expect(json.length >= COMPRESS_AT_REST_MIN_BYTES).toBe(count > 1);
    const reply = await send(server, 'add-bundle.json', { method: 'CREATE', headers: { 'content-type': 'application/json' }, body: json });
    expectReply(reply, 201, BUNDLE_ADDED_PRETTY);
    const stored = await expectOneBundle(server, { endpoint: 'bundle', transport: 'create', compression: 'none', encrypted: false, identifier: null }, json);
    expect(stored.compressed_at_rest).toBe(count > 1);
    await expectPoints(server, points);
  });

  it('add-point.json: POST form with one JSON object (G2c)', async () => {
    const [point] = samples(42);
    const json = JSON.stringify(point);
    const reply = await send(server, 'add-point.json', { method: 'POST', headers: { ...FORM, 'x-pdk-identifier': 'bric-0a93f1' }, body: new URLSearchParams({ payload: json }).toString() });
    expectReply(reply, 201, POINT_ADDED);
    await expectOneBundle(server, { endpoint: 'point', transport: 'form', compression: 'none', encrypted: false, identifier: 'bric-0a93f1' }, Buffer.from(json));
    await expectPoints(server, [point]);
  });

  it('add-point.json: CREATE with a raw JSON object', async () => {
    const [point] = samples(41);
    const json = Buffer.from(JSON.stringify(point, null, 2));
    const reply = await send(server, 'add-point.json', { method: 'CREATE', headers: { 'content-type': 'application/json' }, body: json });
    expectReply(reply, 201, POINT_ADDED);
    await expectOneBundle(server, { endpoint: 'point', transport: 'create', compression: 'none', encrypted: false, identifier: null }, json);
    await expectPoints(server, [point]);
  });

  it('OPTIONS and HEAD: 200, empty body, CORS headers; GET: JSON 405 with Allow', async () => {
    for (const path of ['add-bundle.json', 'add-point.json']) {
      for (const method of ['OPTIONS', 'HEAD']) {
        const reply = await send(server, path, { method, headers: { origin: 'chrome-extension://koijebmgmlpeinmgdfogdoflpjfigcmi' } });
        expectReply(reply, 200, '', 'text/plain');
      }
      const reply = await send(server, path, { method: 'GET' });
      expectReply(reply, 405, '{"message":"Method GET is not allowed here; use CREATE, POST, PUT, HEAD, OPTIONS.","code":"DCS_ERR_METHOD_NOT_ALLOWED"}');
      expect(reply.headers.get('allow')).toBe('CREATE, POST, PUT, HEAD, OPTIONS');
    }
    await expectNothingStored(server);
  });

  it.each([
    ['none', false],
    ['gzip', false],
    ['none', true],
    ['gzip', true],
  ] as const)('encrypted POST form, compression=%s, base64 wrapped at 76 columns: %s', async (compression, wrapLines) => {
    const points = samples(21, 22, 26);
    const { form, ciphertext, nonce } = encryptedForm(points, compression, wrapLines);
    const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: form });
    expectReply(reply, 201, BUNDLE_ADDED);
    const bundle = await expectOneBundle(server, { endpoint: 'bundle', transport: 'form', compression, encrypted: true, identifier: null }, ciphertext);
    expect(bundle.nonce!.equals(nonce)).toBe(true);
    expect(bundle.body.toString('latin1')).not.toContain('wm-40917');
    await expectPoints(server, points, true);
  });

  describe('PyNaCl vector (test/fixtures/make-pynacl-vector.py)', () => {
    it.each(['none', 'gzip'] as const)('openBox decrypts the PyNaCl ciphertext (compression=%s) to its plaintext', (compression) => {
      const { plaintext, ciphertext } = VECTOR.cases[compression];
      const opened = openBox(b64(ciphertext), b64(VECTOR.nonce), KEYS);
      expect(opened?.toString('utf8')).toBe(plaintext);
      const json = compression === 'gzip' ? gunzipSync(b64(plaintext)) : Buffer.from(plaintext);
      expect(JSON.parse(json.toString('utf8'))).toEqual(VECTOR.points);
    });

    it.each(['none', 'gzip'] as const)('sealBox makes the same bytes as PyNaCl for the same keys and nonce (compression=%s)', (compression) => {
      const { plaintext, ciphertext } = VECTOR.cases[compression];
      expect(Buffer.from(publicKeyOf(KEYS.serverSecretKey)).toString('base64')).toBe(VECTOR.serverPublicKey);
      expect(Buffer.from(publicKeyOf(CLIENT_SECRET)).toString('base64')).toBe(VECTOR.clientPublicKey);
      const sealed = sealBox(Buffer.from(plaintext, 'utf8'), b64(VECTOR.nonce), SERVER_PUBLIC, CLIENT_SECRET);
      expect(Buffer.from(sealed).toString('base64')).toBe(ciphertext);
    });

    it.each(['none', 'gzip'] as const)('uploading the PyNaCl ciphertext (compression=%s) yields its points', async (compression) => {
      const { ciphertext } = VECTOR.cases[compression];
      const form = new URLSearchParams({ encrypted: 'true', compression, nonce: VECTOR.nonce, payload: ciphertext }).toString();
      const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: form });
      expectReply(reply, 201, BUNDLE_ADDED);
      await expectOneBundle(server, { endpoint: 'bundle', transport: 'form', compression, encrypted: true, identifier: null }, b64(ciphertext));
      await expectPoints(server, VECTOR.points, true);
    });
  });
});

describe('UPLOAD_TOKENS', () => {
  const server = useTestServer({ UPLOAD_TOKENS: 'first-token, second-token' });

  it('PUT without the right bearer token gets a JSON 401 and stores nothing; with it, 201', async () => {
    const points = samples(43, 44);
    const body = gzipSync(Buffer.from(JSON.stringify(points)));
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-pdk-identifier': 'bric-0a93f1' };
    const unauthorized = '{"message":"Missing or unknown bearer token.","code":"DCS_ERR_UNAUTHORIZED"}';
    for (const authorization of [undefined, 'Bearer wrong-token', 'Bearer first-token-and-more', 'Basic second-token']) {
      const reply = await send(server, 'add-bundle.json', { method: 'PUT', headers: authorization ? { ...headers, authorization } : headers, body });
      expectReply(reply, 401, unauthorized);
    }
    await expectNothingStored(server);
    const reply = await send(server, 'add-bundle.json', { method: 'PUT', headers: { ...headers, authorization: 'Bearer second-token' }, body });
    expectReply(reply, 201, BUNDLE_ADDED);
    await expectOneBundle(server, { endpoint: 'bundle', transport: 'put', compression: 'gzip', encrypted: false, identifier: 'bric-0a93f1' }, body);
    await expectPoints(server, points);
  });
});

describe('UPLOAD_TOKENS_FOR=all', () => {
  const server = useTestServer({ UPLOAD_TOKENS: 'study-token', UPLOAD_TOKENS_FOR: 'all' });

  it('asks every upload method for the token, before reading the body', async () => {
    const unauthorized = '{"message":"Missing or unknown bearer token.","code":"DCS_ERR_UNAUTHORIZED"}';
    const uploads: [string, RequestInit][] = [
      ['add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(0, 1)) }],
      ['add-bundle.json', { method: 'CREATE', body: JSON.stringify(samples(2)) }],
      ['add-bundle.json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(samples(3)) }],
      ['add-bundle.json', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(samples(4)) }],
      ['add-point.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ payload: JSON.stringify(samples(40)[0]) }).toString() }],
    ];
    for (const [path, init] of uploads) expectReply(await send(server, path, init), 401, unauthorized);
    await expectNothingStored(server);
    for (const [path, init] of uploads) {
      const reply = await send(server, path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: 'Bearer study-token' } });
      expect(reply.status).toBe(201);
    }
    expect((await server.db.pool.query('SELECT count(*)::int AS n FROM bundles')).rows[0].n).toBe(uploads.length);
  });
});

describe('UPLOADS_DISABLED', () => {
  const server = useTestServer({ UPLOADS_DISABLED: 'true' });

  it('answers 201 with the disabled message and stores nothing', async () => {
    const bundleReply = `{\n  "message": "${DISABLED}",\n  "added": true\n}`;
    const pointReply = `{\n  "message": "${DISABLED}"\n}`;
    expectReply(await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(0, 1)) }), 201, bundleReply);
    expectReply(await send(server, 'add-bundle.json', { method: 'CREATE', body: JSON.stringify(samples(2)) }), 201, bundleReply);
    expectReply(await send(server, 'add-bundle.json', { method: 'PUT', body: JSON.stringify(samples(3)) }), 201, bundleReply);
    expectReply(await send(server, 'add-point.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ payload: JSON.stringify(samples(40)[0]) }).toString() }), 201, pointReply);
    await expectNothingStored(server);
    expect(await server.process()).toMatchObject({ bundles: 0, points: 0 });
  });
});
