/**
 * Donations from an erased identifier (issue 21 §4, docs/donations.md): the enrollment server's
 * signed link of a participant who withdrew opens nothing and shows a neutral page until the team
 * re-admits the identifier, and an upload link still alive while the identifier is on the erased
 * list stores nothing: no file, no review, no points. Real HTTP, real PostgreSQL, the real erasure.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { generateSecretKey, sealSecret } from '../../src/crypto/secretbox.ts';
import { addToErasedList } from '../../src/data-quality/erasure.repository.ts';
import { eraseSource, readmitSource } from '../../src/data-quality/erasure.ts';
import { runDonations } from '../../src/donations/donations.job.ts';
import { PARTICIPANT_HEADERS } from '../../src/donations/participant-pages.ts';
import { createLogger } from '../../src/log.ts';
import { useTestServer } from '../helpers/server.ts';

const LINK_KEY = generateSecretKey();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const FILES = nacl.box.keyPair();
const server = useTestServer({
  PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: LINK_KEY,
  DONATION_PUBLIC_KEY: b64(FILES.publicKey),
  DONATION_SECRET_KEY: b64(FILES.secretKey),
  DONATION_HASH_KEY: b64(crypto.randomBytes(32)),
});
const AMAZON_CSV = fs.readFileSync(new URL('../fixtures/donations/amazon-consumer.csv', import.meta.url));

/** The enrollment server's signed link for `identifier`, as the participant's task list holds it. */
function startUrl(identifier: string): string {
  const clear = `${identifier}:${identifier}:amazon:${JSON.stringify({ amazon_start: '01/01/2022' }, null, 2)}`;
  return `${server.baseUrl}/data/external/start?auto=${encodeURIComponent(sealSecret(Buffer.from(clear), Buffer.from(LINK_KEY, 'base64')).toString('base64'))}`;
}

/** The instructions page's button: the signed link posted back (the same token the page's form carries). */
function postStart(identifier: string): Promise<Response> {
  const auto = decodeURIComponent(new URL(startUrl(identifier)).searchParams.get('auto')!);
  return fetch(`${server.baseUrl}/data/external/start`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ auto }).toString(),
  });
}

/** The participant's browser through the start page to the upload page; returns the upload path. */
async function openUploadPage(identifier: string): Promise<string> {
  expect((await fetch(startUrl(identifier))).status).toBe(200);
  const posted = await postStart(identifier);
  expect(posted.status).toBe(303);
  return posted.headers.get('location')!;
}

function upload(path: string): Promise<Response> {
  const form = new FormData();
  form.append('amazon', new Blob([new Uint8Array(AMAZON_CSV)]), 'orders.csv');
  return fetch(`${server.baseUrl}${path}`, { method: 'POST', body: form, redirect: 'manual' });
}

async function stored(identifier: string) {
  const { rows } = await server.db.pool.query(
    `SELECT (SELECT count(*)::int FROM donation_requests WHERE identifier = $1) AS requests,
            (SELECT count(*)::int FROM donation_files f JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = $1) AS files,
            (SELECT count(*)::int FROM donation_file_chunks c JOIN donation_files f ON f.id = c.file_id JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = $1) AS chunks,
            (SELECT count(*)::int FROM bundles WHERE identifier = $1) AS bundles`,
    [identifier],
  );
  return rows[0];
}

/** The neutral page: what it says, no script, the participant pages' headers. */
async function expectClosedPage(response: Response): Promise<void> {
  expect(response.status).toBe(410);
  expect(response.headers.get('location')).toBeNull();
  for (const [name, value] of Object.entries(PARTICIPANT_HEADERS)) expect(response.headers.get(name)).toBe(value);
  const page = await response.text();
  expect(page).toContain('This link can no longer be used for uploads');
  expect(page).toContain('contact the study team');
  expect(page).not.toMatch(/<script|erase|withdr/i);
}

describe('the signed start link of an erased identifier', () => {
  it('shows a neutral page and opens no request, by GET or by the instructions page\'s POST', async () => {
    const path = await openUploadPage('70000001');
    expect((await upload(path)).status).toBe(303);
    await eraseSource(server.db.pool, '70000001', 'test');
    expect(await stored('70000001')).toEqual({ requests: 0, files: 0, chunks: 0, bundles: 0 });

    await expectClosedPage(await fetch(startUrl('70000001')));
    await expectClosedPage(await postStart('70000001'));
    expect(await stored('70000001')).toEqual({ requests: 0, files: 0, chunks: 0, bundles: 0 });
  });

  it('works again once the identifier is re-admitted', async () => {
    await eraseSource(server.db.pool, '70000002', 'test');
    await expectClosedPage(await fetch(startUrl('70000002')));
    expect(await readmitSource(server.db.pool, '70000002', 'test')).toBe(true);

    const path = await openUploadPage('70000002');
    expect(path).toMatch(/^\/data\/external\/upload\/[0-9a-f]{64}$/);
    expect((await upload(path)).headers.get('location')).toBe(`${path}?done=uploaded`);
    expect(await stored('70000002')).toMatchObject({ requests: 1, files: 1, chunks: 1 });
  });
});

describe('an upload link still alive while its identifier is on the erased list', () => {
  it('stores nothing: no file, no confirmed rows, and shows the neutral page', async () => {
    const path = await openUploadPage('70000003');
    expect((await upload(path)).status).toBe(303);
    await runDonations({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, 20_000);
    const { rows: [file] } = await server.db.pool.query(
      `SELECT f.id::int, f.state FROM donation_files f JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = '70000003'`,
    );
    expect(file.state).toBe('awaiting-confirmation');
    const review = await (await fetch(`${server.baseUrl}${path}/review/${file.id}`)).text();
    const rowKeys = [...review.matchAll(/name="row" value="([^"]+)"/g)].map((match) => match[1]);
    expect(rowKeys.length).toBeGreaterThan(0);

    // The state an erasure is in after its first step (the list, committed before it deletes the
    // request with its link), and stays in if the deletions fail.
    const client = await server.db.pool.connect();
    await addToErasedList(client, '70000003', 'test').finally(() => client.release());
    const before = await stored('70000003');
    expect(before).toEqual({ requests: 1, files: 1, chunks: 1, bundles: 0 });

    const confirm = new URLSearchParams(rowKeys.map((key) => ['row', key]));
    const replies = [
      await upload(path),
      await fetch(`${server.baseUrl}${path}/review/${file.id}`, {
        method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: confirm.toString(),
      }),
      await fetch(`${server.baseUrl}${path}`),
      await fetch(`${server.baseUrl}${path}/review/${file.id}`),
    ];
    expect(await stored('70000003')).toEqual(before);
    const { rows: [after] } = await server.db.pool.query('SELECT state FROM donation_files WHERE id = $1', [file.id]);
    expect(after.state).toBe('awaiting-confirmation');
    for (const reply of replies) await expectClosedPage(reply);
  });
});
