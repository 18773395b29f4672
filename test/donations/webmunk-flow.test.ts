/**
 * The Webmunk donation flow end to end over HTTP (issue 20 §6): the enrollment server's signed
 * link fetched server-side, the participant's browser through start, upload (an Amazon report and
 * a ChatGPT export), the worker's import, the review with rows left out, confirmation, processing,
 * and `uploads/<id>.json` as the enrollment server reads it to complete the task.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { generateSecretKey, sealSecret } from '../../src/crypto/secretbox.ts';
import { runDonations } from '../../src/donations/donations.job.ts';
import { createLogger } from '../../src/log.ts';
import { useTestServer } from '../helpers/server.ts';
import { zipOf } from './zip-files.ts';

const LINK_KEY = generateSecretKey();
const FILES = nacl.box.keyPair();
const CONTENT = nacl.box.keyPair();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const server = useTestServer({
  PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: LINK_KEY,
  DONATION_PUBLIC_KEY: b64(FILES.publicKey),
  DONATION_SECRET_KEY: b64(FILES.secretKey),
  DONATION_HASH_KEY: b64(crypto.randomBytes(32)),
  PDK_EXTERNAL_CONTENT_PUBLIC_KEY: b64(CONTENT.publicKey),
  TIME_ZONE: 'America/New_York',
});
const AMAZON_CSV = fs.readFileSync(new URL('../fixtures/donations/amazon-consumer.csv', import.meta.url));
const CONVERSATIONS = fs.readFileSync(new URL('../fixtures/donations/chatgpt-conversations.json', import.meta.url));

const importNow = () => runDonations({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, 20_000);

function enrollmentLink(identifier: string): string {
  const clear = `${identifier}:${identifier}:amazon,chatgpt:${JSON.stringify({ amazon_start: '01/01/2022' }, null, 2)}`;
  const token = sealSecret(Buffer.from(clear), Buffer.from(LINK_KEY, 'base64')).toString('base64');
  return `${server.baseUrl}/data/external/start?auto=${encodeURIComponent(token)}`;
}

/** What a browser does with the instructions page: submit its form. Returns the upload page's path. */
async function throughStartPage(identifier: string): Promise<string> {
  const page = await (await fetch(enrollmentLink(identifier))).text();
  const auto = /name="auto" value="([^"]+)"/.exec(page)![1].replace(/&#x([0-9A-F]+);/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const response = await fetch(`${server.baseUrl}/data/external/start`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ auto }).toString(),
  });
  return response.headers.get('location')!;
}

async function upload(path: string, field: string, name: string, bytes: Buffer): Promise<void> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${server.baseUrl}${path}`, { method: 'POST', body: form, redirect: 'manual' });
  expect(response.headers.get('location')).toBe(`${path}?done=uploaded`);
}

async function fileIds(identifier: string): Promise<Map<string, { id: number; state: string }>> {
  const { rows } = await server.db.pool.query(
    `SELECT f.id::int, f.name, f.state FROM donation_files f JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = $1`, [identifier],
  );
  return new Map(rows.map((r) => [r.name, { id: r.id, state: r.state }]));
}

async function confirm(path: string, fileId: number, rows: string[]): Promise<Response> {
  const body = new URLSearchParams([['action', 'send'], ...rows.map((row) => ['row', row])]);
  return fetch(`${server.baseUrl}${path}/review/${fileId}`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(),
  });
}

async function pointsOf(identifier: string): Promise<{ generator: string; n: number }[]> {
  const { rows } = await server.db.pool.query(
    'SELECT generator_id AS generator, count(*)::int AS n FROM data_points WHERE source = $1 GROUP BY 1 ORDER BY 1', [identifier],
  );
  return rows;
}

describe('a Webmunk participant donates an Amazon order history and a ChatGPT export', () => {
  it('goes from the enrollment server\'s link to stored points and a completed task, with the rows the participant left out not stored', async () => {
    // the enrollment server fetches the link server-side, twice over its retries: one request
    expect((await fetch(enrollmentLink('73019283'))).status).toBe(200);
    const path = await throughStartPage('73019283');
    expect(JSON.parse(await (await fetch(`${server.baseUrl}/data/external/uploads/73019283.json`)).text())).toEqual([]);

    await upload(path, 'amazon', 'Retail.OrderHistory.csv', AMAZON_CSV);
    await upload(path, 'chatgpt', 'chatgpt-export.zip', await zipOf([{ name: 'conversations.json', data: CONVERSATIONS }, { name: 'chat.html', data: '<html></html>' }]));
    const counts = await importNow();
    expect(counts.extracted).toBe(2);
    const files = await fileIds('73019283');
    expect([...files.values()].map((f) => f.state)).toEqual(['awaiting-confirmation', 'awaiting-confirmation']);

    // the review shows the rows (Amazon: date, title, price, quantity), each ticked
    const amazon = files.get('Retail.OrderHistory.csv')!.id;
    const review = await (await fetch(`${server.baseUrl}${path}/review/${amazon}`)).text();
    const keys = [...review.matchAll(/name="row" value="([^"]+)"/g)].map((m) => m[1]);
    expect(keys).toEqual(['1', '2', '4']);
    expect(review).toContain('USB-C Cable');
    expect(review.match(/checked/g)).toHaveLength(3);

    // the participant unticks the second row and sends the rest
    const sent = await confirm(path, amazon, ['1', '4']);
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`${path}?done=sent`);
    // the ChatGPT export: all conversations
    const chatgpt = files.get('chatgpt-export.zip')!.id;
    const chatReview = await (await fetch(`${server.baseUrl}${path}/review/${chatgpt}`)).text();
    const conversations = [...chatReview.matchAll(/name="row" value="([^"]+)"/g)].map((m) => m[1]);
    expect(conversations.length).toBeGreaterThan(0);
    expect((await confirm(path, chatgpt, conversations)).status).toBe(303);
    // the same confirmation again (a double click) changes nothing
    expect((await confirm(path, amazon, ['1', '2', '4'])).headers.get('location')).toBe(path);

    await server.process();
    const points = await pointsOf('73019283');
    const byType = Object.fromEntries(points.map((p) => [p.generator, p.n]));
    expect(byType['pdk-external-amazon-item']).toBe(2);
    expect(byType['pdk-external-engagement-amazon']).toBe(2);
    expect(byType['pdk-external-chatgpt-message']).toBeGreaterThan(0);
    const { rows: items } = await server.db.pool.query(
      `SELECT properties->>'item' AS item FROM data_points WHERE source = '73019283' AND generator_id = 'pdk-external-amazon-item' ORDER BY created`,
    );
    // row 2 (the book) was unticked
    expect(items.map((r) => r.item)).toEqual(['USB-C Cable, 6 ft "braided"', 'Leap-day kettle']);
    const { rows: stored } = await server.db.pool.query(`SELECT state, rows_confirmed, points, bundle_id IS NOT NULL AS bundled FROM donation_files WHERE id = $1`, [amazon]);
    expect(stored[0]).toEqual({ state: 'imported', rows_confirmed: 2, points: 4, bundled: true });
    const { rows: chunks } = await server.db.pool.query('SELECT count(*)::int AS n FROM donation_file_chunks WHERE file_id = ANY($1::bigint[])', [[amazon, chatgpt]]);
    expect(chunks[0].n).toBe(0);

    // what the enrollment server reads to complete the participant's task
    const uploads = JSON.parse(await (await fetch(`${server.baseUrl}/data/external/uploads/73019283.json`)).text());
    expect(uploads.map((u: { source: string }) => u.source).sort()).toEqual(['amazon', 'chatgpt']);
    for (const u of uploads) expect(u.uploaded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
  });

  it('extracts a file again for a new link when the participant comes through the start page before confirming', async () => {
    const first = await throughStartPage('60221409');
    await upload(first, 'amazon', 'orders.csv', AMAZON_CSV);
    await importNow();
    const { id } = (await fileIds('60221409')).get('orders.csv')!;
    const second = await throughStartPage('60221409');
    // the old link's review is gone with it; the new link's review key cannot open the old extraction
    expect((await fetch(`${server.baseUrl}${first}/review/${id}`, { redirect: 'manual' })).status).toBe(302);
    expect((await fileIds('60221409')).get('orders.csv')!.state).toBe('received');
    expect((await fetch(`${server.baseUrl}${second}/review/${id}`, { redirect: 'manual' })).status).toBe(303);
    await importNow();
    const review = await fetch(`${server.baseUrl}${second}/review/${id}`);
    expect(review.status).toBe(200);
    expect(await review.text()).toContain('USB-C Cable');
  });

  it('shows the participant why a file was refused, and lets them send nothing from a file', async () => {
    const path = await throughStartPage('57721566');
    await upload(path, 'amazon', 'header-only.csv', fs.readFileSync(new URL('../fixtures/donations/amazon-header-only.csv', import.meta.url)));
    await upload(path, 'amazon', 'orders.csv', AMAZON_CSV);
    await importNow();
    const files = await fileIds('57721566');
    expect(files.get('header-only.csv')!.state).toBe('refused');
    const page = await (await fetch(`${server.baseUrl}${path}`)).text();
    const { rows } = await server.db.pool.query('SELECT participant_message FROM donation_files WHERE id = $1', [files.get('header-only.csv')!.id]);
    expect(page).toContain(rows[0].participant_message.replaceAll("'", '&#39;').slice(0, 40));
    const discard = await fetch(`${server.baseUrl}${path}/review/${files.get('orders.csv')!.id}`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=discard&row=1',
    });
    expect(discard.headers.get('location')).toBe(`${path}?done=discarded`);
    expect((await fileIds('57721566')).get('orders.csv')!.state).toBe('refused');
    expect(JSON.parse(await (await fetch(`${server.baseUrl}/data/external/uploads/57721566.json`)).text())).toEqual([]);
    await server.process();
    expect(await pointsOf('57721566')).toEqual([]);
  });
});
