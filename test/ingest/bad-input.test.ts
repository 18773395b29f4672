/**
 * Nothing lost, nothing crashes: undecodable uploads are kept (errored, whole body) and answered 400;
 * NULs and lone surrogates are made storable; oversized bodies get 413 (a database outage: spool.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, sealBox } from '../../src/crypto/box.ts';
import { FORM, gzipForm, samples, type Point } from '../helpers/samples.ts';
import { BUNDLE_ADDED, expectReply, send, UNPARSABLE_BUNDLE, UNPARSABLE_POINT, type Reply } from '../helpers/replies.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

/** A current-extension upload that must always be accepted. */
async function goodUpload(server: TestServer): Promise<Reply> {
  return send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: gzipForm(samples(0, 1)) });
}

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');
const SERVER = generateKeyPair();
const CLIENT = generateKeyPair();
const STRANGER = generateKeyPair();

function encryptedForm(clientSecretKey: string, plain: Buffer, compression = 'none'): string {
  const nonce = randomBytes(24);
  const ciphertext = sealBox(plain, nonce, Buffer.from(SERVER.publicKey, 'base64'), Buffer.from(clientSecretKey, 'base64'));
  return new URLSearchParams({ encrypted: 'true', compression, nonce: b64(nonce), payload: b64(ciphertext) }).toString();
}

const BOUNDARY = 'XyZzY';
const MULTIPART = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
const points = JSON.stringify(samples(13, 14));

interface BadCase {
  name: string;
  path?: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  transport: string;
}

const BAD: BadCase[] = [
  { name: 'CREATE with invalid JSON', method: 'CREATE', headers: { 'content-type': 'application/json' }, body: points.slice(0, -20), transport: 'create' },
  { name: 'POST raw JSON that is invalid', method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"a": 1,]', transport: 'json' },
  { name: 'form with invalid JSON', method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'none', payload: points.slice(0, -1) }).toString(), transport: 'form' },
  { name: 'form with bad percent-encoding / base64', method: 'POST', headers: FORM, body: 'compression=gzip&payload=%%%', transport: 'form' },
  { name: 'form with characters outside base64', method: 'POST', headers: FORM, body: 'compression=gzip&payload=H4sI*not*base64', transport: 'form' },
  { name: 'form with base64 of something not gzip', method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'gzip', payload: b64(points) }).toString(), transport: 'form' },
  { name: 'form with gzip of invalid JSON', method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'gzip', payload: b64(gzipSync('[{"x": ')) }).toString(), transport: 'form' },
  { name: 'form with an unknown compression', method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'brotli', payload: b64(points) }).toString(), transport: 'form' },
  { name: 'encrypted with the wrong client key', method: 'POST', headers: FORM, body: encryptedForm(STRANGER.secretKey, Buffer.from(points)), transport: 'form' },
  { name: 'encrypted garbage ciphertext', method: 'POST', headers: FORM, body: new URLSearchParams({ encrypted: 'true', nonce: b64(randomBytes(24)), payload: b64(randomBytes(300)) }).toString(), transport: 'form' },
  { name: 'encrypted with a short nonce', method: 'POST', headers: FORM, body: new URLSearchParams({ encrypted: 'true', nonce: b64(randomBytes(12)), payload: b64(randomBytes(300)) }).toString(), transport: 'form' },
  { name: 'encrypted gzip whose plaintext is not base64', method: 'POST', headers: FORM, body: encryptedForm(CLIENT.secretKey, Buffer.from(points), 'gzip'), transport: 'form' },
  { name: 'add-bundle with an object, not an array', method: 'POST', headers: FORM, body: new URLSearchParams({ payload: JSON.stringify(samples(13)[0]) }).toString(), transport: 'form' },
  { name: 'form without a payload field', method: 'POST', headers: FORM, body: 'compression=gzip&data=H4sI', transport: 'form' },
  { name: 'multipart cut short', method: 'POST', headers: MULTIPART, body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${points}`, transport: 'multipart' },
  { name: 'multipart without a boundary parameter', method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${points}\r\n--${BOUNDARY}--\r\n`, transport: 'multipart' },
  { name: 'multipart without a payload part', method: 'POST', headers: MULTIPART, body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="x.jpeg"; filename="blob"\r\n\r\n\xff\xd8\r\n--${BOUNDARY}--\r\n`, transport: 'multipart' },
  { name: 'PUT with Content-Encoding gzip but not gzip', method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: points, transport: 'put' },
  { name: 'PUT with an unsupported Content-Encoding', method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: points, transport: 'put' },
  { name: 'add-point with invalid JSON', path: 'add-point.json', method: 'POST', headers: FORM, body: 'payload=%7B%22name%22%3A', transport: 'form' },
  { name: 'add-point with a string', path: 'add-point.json', method: 'CREATE', headers: { 'content-type': 'application/json' }, body: '"just text"', transport: 'create' },
];

describe('undecodable uploads', () => {
  const server = useTestServer({ PDK_SERVER_KEY: SERVER.secretKey, PDK_CLIENT_KEY: CLIENT.publicKey });

  it.each(BAD)('$name: 400, kept as an errored bundle with the whole body', async (bad) => {
    const path = bad.path ?? 'add-bundle.json';
    const before = await server.db.pool.query('SELECT coalesce(max(id), 0) AS id FROM bundles');
    const reply = await send(server, path, { method: bad.method, headers: { ...bad.headers, 'x-pdk-identifier': 'bric-bad' }, body: bad.body });
    expectReply(reply, 400, path === 'add-point.json' ? UNPARSABLE_POINT : UNPARSABLE_BUNDLE);

    const { rows } = await server.db.pool.query('SELECT endpoint, transport, status, error, identifier, body FROM bundles WHERE id > $1', [before.rows[0].id]);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ endpoint: path === 'add-point.json' ? 'point' : 'bundle', transport: bad.transport, status: 'errored', identifier: 'bric-bad' });
    expect(row.error).toMatch(/\S/);
    expect(row.body.equals(Buffer.from(bad.body)), 'stored body is the raw request body').toBe(true);

    expectReply(await goodUpload(server), 201, BUNDLE_ADDED);
  });

  it('processing leaves errored bundles alone, and processes the good ones', async () => {
    const result = await server.process();
    expect(result).toMatchObject({ bundles: BAD.length, failed: 0 });
    const { rows } = await server.db.pool.query(`SELECT status, count(*)::int AS n FROM bundles GROUP BY status ORDER BY status`);
    expect(rows).toEqual([{ status: 'errored', n: BAD.length }, { status: 'processed', n: BAD.length }]);
  });
});

describe('NUL characters and lone surrogates', () => {
  const server = useTestServer();

  /** Inserts JSON text members (with escapes written as JSON source) at the start of a point's object. */
  function withMembers(point: Point, members: string): string {
    const text = JSON.stringify(point);
    return `{${members}, ${text.slice(1)}`;
  }
  // JSON source text: \u0000 escapes (in a value and a key), an escaped backslash then u0000 (literal text),
  // lone surrogates, a pair, and a lone low surrogate after literal text that looks like a high one.
  const MEMBERS = String.raw`"nul\u0000key": "a\u0000b\u0000", "literal": "x\\u0000y", "even": "\\\u0000z", "lone": "\ud800!", "pair": "\ud83d\ude00", "fake": "\\ud83d\ude00"`;
  const EXPECTED = { nulkey: 'ab', literal: 'x\\u0000y', even: '\\z', lone: '\ufffd!', pair: '\u{1f600}', fake: '\\ud83d\ufffd' };

  async function expectStored(point: Point): Promise<void> {
    const meta = point['passive-data-metadata']!;
    const { rows } = await server.db.pool.query(
      `SELECT properties FROM data_points WHERE generator_id = $1 AND created = to_timestamp($2)`, [meta['generator-id'], meta.timestamp]);
    expect(rows).toHaveLength(1);
    expect(rows[0].properties).toEqual({ ...EXPECTED, ...point, 'passive-data-metadata': { ...meta, encrypted_transmission: false } });
  }

  it('accepts them in CREATE and gzip form uploads and stores the cleaned point', async () => {
    const [createPoint, formPoint, addPoint] = samples(26, 48, 40);
    const createText = `[${withMembers(createPoint, MEMBERS)}]`;
    expect(createText).toContain('\\u0000');
    expect(() => JSON.parse(createText)).not.toThrow();
    const create = await send(server, 'add-bundle.json', { method: 'CREATE', headers: { 'content-type': 'application/json' }, body: createText });
    expectReply(create, 201, '{\n  "message": "Data bundle added successfully, and ready for processing.",\n  "added": true\n}');
    const payload = gzipSync(`[${withMembers(formPoint, MEMBERS)}]`).toString('base64');
    const form = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'gzip', payload }).toString() });
    expectReply(form, 201, BUNDLE_ADDED);
    const point = await send(server, 'add-point.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ payload: withMembers(addPoint, MEMBERS) }).toString() });
    expectReply(point, 201, '{\n  "message": "Data point added successfully."\n}');

    const { rows: stored } = await server.db.pool.query(`SELECT body FROM bundles WHERE transport = 'create'`);
    expect(stored[0].body.toString('utf8')).toBe(createText); // kept as sent, NULs and all
    expect(await server.process()).toMatchObject({ bundles: 3, added: 3, rejected: 0, failed: 0 });
    await expectStored(createPoint);
    await expectStored(formPoint);
    await expectStored(addPoint);
  });
});

describe('body size limit', () => {
  const server = useTestServer({ MAX_BODY_BYTES: '10000' });

  it('answers 413 JSON to a body over MAX_BODY_BYTES, with a Content-Length or chunked, and stays up', async () => {
    const body = `compression=none&payload=${'x'.repeat(20000 - 25)}`;
    expect(body.length).toBe(20000);
    const tooLarge = '{"message":"Upload larger than the limit of 10000 bytes.","code":"DCS_ERR_BODY_TOO_LARGE"}';
    expectReply(await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body }), 413, tooLarge);
    // No Content-Length: the limit must hold while the body streams in.
    const chunks = [body.slice(0, 8000), body.slice(8000, 16000), body.slice(16000)].map((c) => new TextEncoder().encode(c));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const chunked = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: stream, duplex: 'half' } as RequestInit);
    expectReply(chunked, 413, tooLarge);
    expectReply(await goodUpload(server), 201, BUNDLE_ADDED);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM bundles');
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe('decompressed size limit', () => {
  const server = useTestServer({ MAX_INFLATED_BYTES: '100000' });

  it('stores a gzip bomb as an errored bundle with the reason, answers 400, and stays up', async () => {
    // 10 MB of one repeated character: about 10 KB of gzip, 100 times the limit once inflated.
    const bomb = gzipSync(Buffer.alloc(10_000_000, 0x20)).toString('base64');
    const reply = await send(server, 'add-bundle.json', { method: 'POST', headers: FORM, body: new URLSearchParams({ compression: 'gzip', payload: bomb }).toString() });
    expectReply(reply, 400, UNPARSABLE_BUNDLE);
    const { rows } = await server.db.pool.query(`SELECT status, error FROM bundles`);
    expect(rows).toEqual([{ status: 'errored', error: 'decompressed payload exceeds 100000 bytes' }]);
    expectReply(await goodUpload(server), 201, BUNDLE_ADDED);
  });
});
