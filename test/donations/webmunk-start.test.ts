/**
 * The enrollment server's side of donations (ecosystem-api.md §2.8.1-2.8.3): its signed start link
 * opens a participant's request once however often it is fetched; a link made without the key, or
 * a bare identifier, opens nothing; `uploads/<id>.json` and `pending/<id>.json` answer as it reads them.
 */
import { expect, it } from 'vitest';
import { generateSecretKey, sealSecret } from '../../src/crypto/secretbox.ts';
import { useTestServer } from '../helpers/server.ts';

const KEY = generateSecretKey();
const server = useTestServer({ PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: KEY });

/** The link as the enrollment server makes it: `<id>:<id>:amazon:<metadata, indent 2>`, secretbox, base64, URL-encoded. */
function enrollmentLink(identifier: string, metadata: object, key = KEY): string {
  const clear = `${identifier}:${identifier}:amazon:${JSON.stringify(metadata, null, 2)}`;
  const token = sealSecret(Buffer.from(clear), Buffer.from(key, 'base64')).toString('base64');
  return `${server.baseUrl}/data/external/start?auto=${encodeURIComponent(token)}`;
}

const json = async (path: string) => {
  const response = await fetch(`${server.baseUrl}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

it('opens a request once from the enrollment server\'s link, however often it is fetched', async () => {
  const link = enrollmentLink('48213077', { amazon_start: '01/01/2022', arm: 'b' });
  for (let i = 0; i < 3; i += 1) {
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  }
  const { rows } = await server.db.pool.query(
    `SELECT r.identifier, r.email, r.extras, array_agg(s.source) AS sources FROM donation_requests r
     JOIN donation_request_sources s ON s.request_id = r.id GROUP BY r.id`,
  );
  expect(rows).toEqual([{ identifier: '48213077', email: '48213077', extras: { amazon_start: '01/01/2022', arm: 'b' }, sources: ['amazon'] }]);
});

it('opens nothing for a link made with another key, a damaged one, or none', async () => {
  for (const url of [
    enrollmentLink('99999999', {}, generateSecretKey()),
    `${server.baseUrl}/data/external/start?auto=${encodeURIComponent(Buffer.from('99999999:99999999:amazon:{}').toString('base64'))}`,
    `${server.baseUrl}/data/external/start?auto=not%20base64%21`,
    `${server.baseUrl}/data/external/start`,
  ]) {
    expect((await fetch(url)).status).toBe(400);
  }
  const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM donation_requests WHERE identifier = '99999999'`);
  expect(rows[0].n).toBe(0);
});

it('lists imported files in uploads/<id>.json and what is still expected in pending/<id>.json', async () => {
  expect(await json('/data/external/uploads/00000000.json')).toEqual({ status: 200, type: 'application/json', text: '[]' });
  expect(await json('/data/external/pending/00000000.json')).toEqual({ status: 200, type: 'application/json', text: '[]' });

  await fetch(enrollmentLink('55501234', { amazon_start: '01/01/2012' }));
  expect(JSON.parse((await json('/data/external/pending/55501234.json')).text)).toEqual(['amazon']);
  const { rows: [request] } = await server.db.pool.query(`UPDATE donation_requests SET requested_at = '2026-01-01T00:00:00Z' WHERE identifier = '55501234' RETURNING id`);
  await server.db.pool.query(
    `INSERT INTO donation_files (request_id, source, uploaded_at, state) VALUES
       ($1, 'amazon', '2026-01-03T14:03:12.123456Z', 'imported'), ($1, 'amazon', '2026-01-02T09:00:00Z', 'refused')`,
    [request.id],
  );
  const uploads = await json('/data/external/uploads/55501234.json');
  expect(uploads.text).toBe('[\n  {\n    "source": "amazon",\n    "uploaded": "2026-01-03T14:03:12.123456+00:00"\n  }\n]');
  // One file, none on or after day 28: the final upload is pending (the original wanted two files first).
  expect(JSON.parse((await json('/data/external/pending/55501234.json')).text)).toEqual(['amazon']);
  await server.db.pool.query(`INSERT INTO donation_files (request_id, source, uploaded_at, state) VALUES ($1, 'amazon', '2026-02-01T00:00:00Z', 'received')`, [request.id]);
  expect(JSON.parse((await json('/data/external/pending/55501234.json')).text)).toEqual([]);
  expect(JSON.parse((await json('/data/external/uploads/55501234.json')).text)).toHaveLength(1);
});
