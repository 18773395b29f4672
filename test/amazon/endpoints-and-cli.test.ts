/**
 * The original's product endpoints (webmunk-server.md §7.1) behind a peer token, a login or
 * ASIN_ENDPOINTS_PUBLIC, and `dcs keepa status` against the fake Keepa server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDcs } from '../helpers/dcs.ts';
import { startFakeKeepa, type FakeKeepa } from '../helpers/fake-keepa.ts';
import { useTestServer, startTestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';

const server = useTestServer({ ASIN_PEER_TOKENS: 'peer-one,peer-two' });
let fake: FakeKeepa;

beforeAll(async () => {
  fake = await startFakeKeepa({ tokens: 321 });
  await server.db.pool.query(
    `INSERT INTO amazon_products (asin, first_seen, last_seen, points, sources, keepa_state, metadata, title, brand, category_tree, added_at)
     VALUES ('B0BXYZ1234', '2023-09-14 11:43:08.482+00', now(), 3, 1, 'enriched', '{"keepa": [{"asin": "B0BXYZ1234", "title": "Charger", "csv": [[1, null]]}]}', 'Charger', 'Anker', 'Electronics > Chargers', '2023-09-14 15:43:08+00'),
            ('B08L5TNJHG', '2023-09-14 23:59:00+00', now(), 1, 1, 'pending', NULL, NULL, NULL, NULL, '2023-09-15 00:00:00+00'),
            ('B0MISSED01', '2023-09-15 08:00:00.000001+00', now(), 1, 1, 'missed', NULL, NULL, NULL, NULL, '2023-09-16 00:00:00+00')`,
  );
  await server.db.pool.query(`UPDATE amazon_products SET keepa_next_attempt = now() + interval '1 hour', keepa_attempts = 1 WHERE asin = 'B0MISSED01'`);
});
afterAll(async () => fake?.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.baseUrl}${path}`, { headers });

describe('/support/asin endpoints', () => {
  it('need a peer token at /support, and answer as the original with one', async () => {
    const anonymous = await get('/support/asin/B0BXYZ1234.json');
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).message).toMatch(/ASIN_PEER_TOKENS/);
    expect((await get('/support/asin/B0BXYZ1234.json', { authorization: 'Bearer wrong' })).status).toBe(401);
    const hit = await get('/support/asin/b0bxyz1234.json', { authorization: 'Bearer peer-two' });
    expect(hit.status).toBe(200);
    expect(hit.headers.get('content-type')).toMatch(/application\/json/);
    const text = await hit.text();
    // pretty-printed with 2 spaces, as the original (key order is PostgreSQL's)
    expect(JSON.parse(text)).toEqual({ keepa: [{ asin: 'B0BXYZ1234', title: 'Charger', csv: [[1, null]] }] });
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
    const pending = await get('/support/asin/B08L5TNJHG.json', { authorization: 'Bearer peer-one' });
    expect(pending.status).toBe(404);
    expect(await pending.text()).toBe('Item not yet populated');
    expect((await get('/support/asin/B0NOTHERE1.json', { authorization: 'Bearer peer-one' })).status).toBe(404);
    expect((await get('/support/asin/not-an-asin.json', { authorization: 'Bearer peer-one' })).status).toBe(404);
  });

  it('list 1,000 products a page, oldest first, and refuse a bad page with a JSON error', async () => {
    const list = await get('/support/asins.json', { authorization: 'Bearer peer-one' });
    const text = await list.text();
    // indented as the original's json.dumps(indent=2)
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
    expect(JSON.parse(text)).toEqual([
      { asin: 'B0BXYZ1234', product_name: 'Charger', product_type: 'Electronics > Chargers', product_brand: 'Anker', added: '2023-09-14T11:43:08.482000+00:00' },
      { asin: 'B08L5TNJHG', product_name: null, product_type: null, product_brand: null, added: '2023-09-14T23:59:00+00:00' },
      { asin: 'B0MISSED01', product_name: null, product_type: null, product_brand: null, added: '2023-09-15T08:00:00.000001+00:00' },
    ]);
    expect(await (await get('/support/asins.json?page=1', { authorization: 'Bearer peer-one' })).json()).toEqual([]);
    const bad = await get('/support/asins.json?page=x', { authorization: 'Bearer peer-one' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/page must be a whole number/);
  });

  it('are served to logged-in staff under /data/support, and to anyone with ASIN_ENDPOINTS_PUBLIC', async () => {
    const user = await createStaff(server.db.pool, 'pia', 'products password');
    const { cookie } = await logIn(server.baseUrl, user.username, user.password);
    expect((await get('/data/support/asin/B0BXYZ1234.json', { cookie })).status).toBe(200);
    expect((await get('/data/support/asin/B0BXYZ1234.json')).status).toBe(401);
    const open = await startTestServer({ ASIN_ENDPOINTS_PUBLIC: 'true' }, { db: server.db });
    try {
      expect((await fetch(`${open.baseUrl}/support/asins.json`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});

describe('/support/asin endpoints for the original\'s callers, which send no token', () => {
  it('answer the addresses in ASIN_ENDPOINTS_ALLOW_FROM (as TRUST_PROXY resolves them), and no others', async () => {
    const cases: [Record<string, string>, Record<string, string>, number][] = [
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '127.0.0.0/8' }, {}, 200],
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '127.0.0.1' }, {}, 200],
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '10.0.0.0/8, 2001:db8::/32' }, {}, 401],
      // behind a proxy: the forwarded address is the one judged, never the proxy's
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '10.0.0.0/8', TRUST_PROXY: 'loopback' }, { 'x-forwarded-for': '10.1.2.3' }, 200],
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '10.0.0.0/8', TRUST_PROXY: 'loopback' }, { 'x-forwarded-for': '11.1.2.3' }, 401],
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '127.0.0.0/8', TRUST_PROXY: 'loopback' }, { 'x-forwarded-for': '11.1.2.3' }, 401],
      // without TRUST_PROXY the header is not believed
      [{ ASIN_ENDPOINTS_ALLOW_FROM: '10.0.0.0/8' }, { 'x-forwarded-for': '10.1.2.3' }, 401],
    ];
    for (const [env, headers, status] of cases) {
      const peerServer = await startTestServer(env, { db: server.db });
      try {
        const reply = await fetch(`${peerServer.baseUrl}/support/asin/B0BXYZ1234.json`, { headers });
        expect(`${JSON.stringify(env)} ${JSON.stringify(headers)}: ${reply.status}`).toBe(`${JSON.stringify(env)} ${JSON.stringify(headers)}: ${status}`);
        if (status === 200) expect((await reply.json()).keepa[0].title).toBe('Charger');
        const list = await fetch(`${peerServer.baseUrl}/support/asins.json?page=0`, { headers });
        expect(list.status).toBe(status);
      } finally {
        await peerServer.stop();
      }
    }
  });
});

describe('dcs keepa status', () => {
  it('prints the token balance and the queue', async () => {
    const result = await runDcs(['keepa', 'status'], { databaseUrl: server.db.url, env: { KEEPA_API_KEY: fake.key, KEEPA_API_URL: fake.url } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^keepa tokens left\s+321$/m);
    expect(result.stdout).toMatch(/^products enriched\s+1$/m);
    expect(result.stdout).toMatch(/^products pending\s+1$/m);
    expect(result.stdout).toMatch(/^products missed\s+1$/m);
    expect(result.stdout).toMatch(/^due now\s+1$/m);
    expect(result.stdout).toMatch(/^next retry of a miss\s+\d{4}-/m);
    const json = JSON.parse((await runDcs(['keepa', 'status', '--json'], { databaseUrl: server.db.url })).stdout);
    expect(json).toMatchObject({ keepa: { configured: false }, queue: { enriched: 1, pending: 1, missed: 1 } });
    const wrongKey = await runDcs(['keepa', 'status'], { databaseUrl: server.db.url, env: { KEEPA_API_KEY: 'nope', KEEPA_API_URL: fake.url } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toMatch(/keepa\s+unreachable/);
    expect(wrongKey.stdout + wrongKey.stderr).not.toContain('nope');
  });
});
