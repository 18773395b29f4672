/**
 * Keepa enrichment against the fake Keepa server (test/helpers/fake-keepa.ts) and a peer
 * server: batches of 100, ordered products first, misses recorded with a growing delay, tokens
 * never overspent, Keepa outages leave the queue as it was, a peer's hit adopted without Keepa.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { enrichProducts } from '../../src/amazon/enrich.ts';
import { keepaQueue } from '../../src/amazon/products.repository.ts';
import { createLogger } from '../../src/log.ts';
import { startFakeKeepa, type FakeKeepa } from '../helpers/fake-keepa.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();
const log = createLogger('silent');
const fakes: FakeKeepa[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

const asin = (n: number) => `B0TEST${String(n).padStart(4, '0')}`;
function product(code: string) {
  return {
    asin: code, domainId: 1, title: `Product ${code}`, brand: 'Anker', manufacturer: 'Anker Innovations', type: 'CHARGER', size: '20W',
    rootCategory: 172282, categoryTree: [{ catId: 172282, name: 'Electronics' }, { catId: 2407761011, name: 'Chargers' }],
    sellerIds: null, buyBoxSellerId: 'A294P4X9EWVXLJ', csv: [[6000000, 1599, 6000100, -1], [6000000, 1499]],
  };
}

async function seed(count: number, ordered: (n: number) => boolean) {
  await server.db.pool.query('TRUNCATE amazon_products');
  await server.db.pool.query(
    `INSERT INTO amazon_products (asin, first_seen, last_seen, points, sources, ordered)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $2::timestamptz[], $3::int8[], $3::int[], $4::bool[])`,
    [Array.from({ length: count }, (_, i) => asin(i)), Array.from({ length: count }, () => new Date()), Array.from({ length: count }, () => 1), Array.from({ length: count }, (_, i) => ordered(i))],
  );
}

async function fakeKeepa(known: number, options: Parameters<typeof startFakeKeepa>[0] = {}) {
  const fake = await startFakeKeepa({ products: Array.from({ length: known }, (_, i) => product(asin(i))), ...options });
  fakes.push(fake);
  return fake;
}

const configFor = (fake: FakeKeepa, env: Record<string, string> = {}) => loadConfig({ DATABASE_URL: server.db.url, KEEPA_API_KEY: fake.key, KEEPA_API_URL: fake.url, ...env });
const productRequests = (fake: FakeKeepa) => fake.requests.filter((r) => r.path.startsWith('/product'));

describe('keepa enrichment', () => {
  beforeEach(async () => {
    await server.db.pool.query('TRUNCATE amazon_products');
  });

  it('asks 100 at a time, ordered products first, stores the derived fields and records misses', async () => {
    await seed(160, (n) => n >= 150); // 150..159 ordered; 150..159 unknown to Keepa
    const fake = await fakeKeepa(150);
    const result = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log });
    expect(result).toMatchObject({ enriched: 150, missed: 10, requests: 2, fromPeers: 0 });
    const requests = productRequests(fake);
    expect(requests.map((r) => r.query.asin.split(',').length)).toEqual([100, 60]);
    expect(requests[0].query.asin.split(',').slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => asin(150 + i)));
    expect(requests[0].query).toMatchObject({ domain: '1', history: '1' });
    const { rows } = await server.db.pool.query(`SELECT * FROM amazon_products WHERE asin = $1`, [asin(7)]);
    expect(rows[0]).toMatchObject({ keepa_state: 'enriched', title: `Product ${asin(7)}`, brand: 'Anker', manufacturer: 'Anker Innovations', product_type: 'CHARGER', size: '20W', category_tree: 'Electronics > Chargers', category_tree_ids: '172282 > 2407761011', seller: 'A294P4X9EWVXLJ' });
    expect(Number(rows[0].root_category)).toBe(172282);
    expect(rows[0].metadata.keepa[0].asin).toBe(asin(7));
    const { rows: missed } = await server.db.pool.query(`SELECT keepa_state, keepa_attempts, extract(epoch FROM keepa_next_attempt - now()) AS wait FROM amazon_products WHERE asin = $1`, [asin(155)]);
    expect(missed[0]).toMatchObject({ keepa_state: 'missed', keepa_attempts: 1 });
    expect(Number(missed[0].wait)).toBeGreaterThan(3500);
    expect(Number(missed[0].wait)).toBeLessThanOrEqual(3600);
    // misses are not asked again before their time, and never block the rest
    const again = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log });
    expect(again.requests).toBe(0);
    expect(await keepaQueue(server.db.pool)).toMatchObject({ enriched: 150, missed: 10, pending: 0, due: 0 });
    // a second miss waits twice as long
    await server.db.pool.query(`UPDATE amazon_products SET keepa_next_attempt = now() WHERE asin = $1`, [asin(155)]);
    await enrichProducts({ pool: server.db.pool, config: configFor(fake), log });
    const { rows: twice } = await server.db.pool.query(`SELECT keepa_attempts, extract(epoch FROM keepa_next_attempt - now()) AS wait FROM amazon_products WHERE asin = $1`, [asin(155)]);
    expect(twice[0].keepa_attempts).toBe(2);
    expect(Number(twice[0].wait)).toBeGreaterThan(7100);
  });

  it('does not overspend: with too few tokens and a late refill it stops without asking for products', async () => {
    await seed(50, () => false);
    const fake = await fakeKeepa(50, { tokens: 10, refillInMs: 55_000 });
    const result = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log, budgetMs: 5_000 });
    expect(result).toMatchObject({ enriched: 0, requests: 0, stopped: 'tokens', tokensLeft: 10 });
    expect(productRequests(fake)).toEqual([]);
    expect((await keepaQueue(server.db.pool)).pending).toBe(50);
  });

  it('leaves the queue as it was when Keepa fails (5xx) or answers 429', async () => {
    await seed(5, () => false);
    const fake = await fakeKeepa(5);
    fake.failNext(503, 1);
    const down = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log });
    expect(down).toMatchObject({ stopped: 'keepa-unavailable', enriched: 0, requests: 0 });
    expect((await keepaQueue(server.db.pool)).pending).toBe(5);
    fake.setTokens(-5);
    const limited = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log, budgetMs: 2_000 });
    expect(limited.enriched).toBe(0);
    expect(limited.stopped).toBe('tokens');
    fake.setTokens(100);
    const ok = await enrichProducts({ pool: server.db.pool, config: configFor(fake), log });
    expect(ok.enriched).toBe(5);
  });

  it('adopts a peer server\'s product without asking Keepa (the federation the original meant)', async () => {
    await seed(3, () => false);
    const fake = await fakeKeepa(3);
    const peerRequests: string[] = [];
    const peer = http.createServer((request, response) => {
      peerRequests.push(`${request.url} ${request.headers.authorization ?? ''}`);
      if (request.url === `/support/asin/${asin(1)}.json`) {
        response.setHeader('content-type', 'application/json');
        // the original's peers may send bare NaN
        response.end(`{"keepa": [{"asin": "${asin(1)}", "title": "From the peer", "brand": "Peer", "csv": [[1, NaN]]}]}`);
      } else {
        response.statusCode = 404;
        response.end('Item not yet populated');
      }
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (peer.address() as AddressInfo).port;
      const config = configFor(fake, { ASIN_LOOKUP_SERVERS: `http://:peer-secret@127.0.0.1:${port}` });
      const result = await enrichProducts({ pool: server.db.pool, config, log });
      expect(result).toMatchObject({ fromPeers: 1, enriched: 2 });
      expect(productRequests(fake).map((r) => r.query.asin)).toEqual([`${asin(0)},${asin(2)}`]);
      expect(peerRequests).toContain(`/support/asin/${asin(1)}.json Bearer peer-secret`);
      const { rows } = await server.db.pool.query(`SELECT title, brand, metadata FROM amazon_products WHERE asin = $1`, [asin(1)]);
      expect(rows[0]).toMatchObject({ title: 'From the peer', brand: 'Peer' });
      expect(rows[0].metadata.keepa[0].csv).toEqual([[1, null]]);
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });
});
