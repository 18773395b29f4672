/**
 * The Keepa client against the fake Keepa (test/helpers/fake-keepa.ts), which follows Keepa's
 * documented API; Keepa itself is never called.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchKeepaProducts,
  fetchKeepaTokens,
  KeepaError,
  keepaProductCost,
  parseJsonAllowingNaN,
  replaceNonFiniteTokens,
  waitForTokensMs,
  type KeepaSettings,
  type KeepaTokens,
} from '../../src/amazon/keepa-client.ts';
import { startFakeKeepa, type FakeKeepa, type FakeKeepaOptions } from '../helpers/fake-keepa.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let fake: FakeKeepa | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A fake Keepa on a settable clock. */
async function start(options: FakeKeepaOptions = {}): Promise<{ fake: FakeKeepa; settings: KeepaSettings; clock: { now: number } }> {
  const clock = { now: T0 };
  fake = await startFakeKeepa({ clock: () => clock.now, ...options });
  return { fake, settings: { apiUrl: fake.url, apiKey: fake.key, domain: 1, timeoutMs: 5_000 }, clock };
}

function asin(i: number): string {
  return `B0${String(i).padStart(8, '0')}`;
}

function product(id: string, title: string | null = `Product ${id}`): Record<string, unknown> {
  return {
    asin: id,
    domainId: 1,
    productType: 0,
    title,
    brand: 'Acme',
    manufacturer: 'Acme Corp',
    rootCategory: 172282,
    categoryTree: [{ catId: 172282, name: 'Electronics' }],
    csv: [[4059360, 4999, 4200480, -1], [4059360, 4599]],
    buyBoxSellerIdHistory: ['4059360', 'ATVPDKIKX0DER'],
  };
}

async function caught(promise: Promise<unknown>): Promise<KeepaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeepaError);
  return error as KeepaError;
}

describe('fetchKeepaProducts', () => {
  it('asks for 100 ASINs in one request and returns them by ASIN, with the tokens after it', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => asin(i));
    const { fake, settings } = await start({ tokens: 1000, refillRate: 20, refillInMs: 42_000, products: ids.map((id) => product(id)) });
    const result = await fetchKeepaProducts(settings, ids);

    expect(fake.requests).toHaveLength(1);
    const { path, query } = fake.requests[0];
    expect(path).toBe('/product');
    expect(query).toEqual({ key: fake.key, domain: '1', asin: ids.join(','), history: '1', buybox: '1' });
    expect([...result.products.keys()]).toEqual(ids);
    expect(result.products.get(asin(7))?.title).toBe(`Product ${asin(7)}`);
    expect(result.products.get(asin(7))?.buyBoxSellerIdHistory).toEqual(['4059360', 'ATVPDKIKX0DER']);
    expect(result.unknown).toEqual([]);
    // 1 token a product, 2 more with buybox.
    expect(result.tokens).toEqual({ tokensLeft: 700, refillIn: 42_000, refillRate: 20, timestamp: T0, tokensConsumed: 300 });
    expect(fake.tokenState().tokensLeft).toBe(700);
  });

  it('sends duplicates once and pays 1 token a product without buybox', async () => {
    const { fake, settings } = await start({ tokens: 50, products: [product(asin(1))] });
    const result = await fetchKeepaProducts(settings, [asin(1), asin(1), asin(2)], { buybox: false });
    expect(fake.requests[0].query.asin).toBe(`${asin(1)},${asin(2)}`);
    expect(fake.requests[0].query.buybox).toBeUndefined();
    expect(result.tokens.tokensConsumed).toBe(2);
    expect(result.tokens.tokensLeft).toBe(48);
    expect(result.products.get(asin(1))?.buyBoxSellerIdHistory).toBeUndefined();
    expect(keepaProductCost(2, { buybox: false })).toBe(2);
    expect(keepaProductCost(2)).toBe(6);
  });

  it('refuses more than 100 ASINs (and none) without sending anything', async () => {
    const { fake, settings } = await start();
    const ids = Array.from({ length: 101 }, (_, i) => asin(i));
    await expect(fetchKeepaProducts(settings, ids)).rejects.toThrow(RangeError);
    await expect(fetchKeepaProducts(settings, [])).rejects.toThrow(RangeError);
    await expect(fetchKeepaProducts(settings, ['B000000001,B000000002'])).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });

  it('lists the ASINs Keepa does not know (stub products), and keeps a known product without a title', async () => {
    const { settings } = await start({ products: [product(asin(1)), product(asin(3), null)] });
    const result = await fetchKeepaProducts(settings, [asin(1), asin(2), asin(3), asin(4)]);
    expect(result.unknown).toEqual([asin(2), asin(4)]);
    expect(result.products.size).toBe(4);
    const stub = result.products.get(asin(2))!;
    expect(stub.asin).toBe(asin(2));
    expect(stub.title).toBeNull();
    expect(stub.csv).toBeNull();
    expect(stub.productType).toBe(4);
    // No title but a history: Keepa knows it.
    expect(result.products.get(asin(3))?.title).toBeNull();
  });

  it('accepts a base URL with a trailing slash and leaves csv out with history off', async () => {
    const { fake, settings } = await start({ products: [product(asin(1))] });
    const result = await fetchKeepaProducts({ ...settings, apiUrl: `${fake.url}/` }, [asin(1)], { history: false, stats: 90 });
    expect(fake.requests[0].path).toBe('/product');
    expect(fake.requests[0].query.history).toBe('0');
    expect(fake.requests[0].query.stats).toBe('90');
    expect(result.products.get(asin(1))?.csv).toBeNull();
  });

  it('reads a reply with bare NaN tokens (as a Python peer writes them)', async () => {
    const { settings } = await start({ emitNaN: true, products: [{ ...product(asin(1)), data: { AMAZON: [49.99, Number.NaN] }, title: 'Keeps NaN in a string' }] });
    const result = await fetchKeepaProducts(settings, [asin(1)]);
    expect(result.products.get(asin(1))?.data).toEqual({ AMAZON: [49.99, null] });
    expect(result.products.get(asin(1))?.title).toBe('Keeps NaN in a string');
  });

  it('turns 429 into a tokens error with the wait until the request is affordable, and consumes nothing', async () => {
    const { fake, settings, clock } = await start({ tokens: 5, refillRate: 20, refillInMs: 30_000 });
    const ids = Array.from({ length: 10 }, (_, i) => asin(i));
    const error = await caught(fetchKeepaProducts(settings, ids, { buybox: false }));
    expect(error.kind).toBe('tokens');
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.tokens).toMatchObject({ tokensLeft: 5, refillIn: 30_000, refillRate: 20, timestamp: T0, tokensConsumed: 0 });
    expect(error.retryAfterMs).toBe(30_000);
    expect(fake.tokenState().tokensLeft).toBe(5);

    // One millisecond early: still refused; on time: served.
    clock.now = T0 + 29_999;
    expect((await caught(fetchKeepaProducts(settings, ids, { buybox: false }))).kind).toBe('tokens');
    clock.now = T0 + 30_000;
    const result = await fetchKeepaProducts(settings, ids, { buybox: false });
    expect(result.tokens.tokensLeft).toBe(15);
  });

  it('waits out a negative balance over several refills', async () => {
    const { fake, settings, clock } = await start({ tokens: 0, refillRate: 20, refillInMs: 10_000 });
    fake.setTokens(-40);
    const ids = Array.from({ length: 10 }, (_, i) => asin(i));
    const error = await caught(fetchKeepaProducts(settings, ids, { buybox: false }));
    // 50 tokens short at 20 a refill: 3 refills, the first in 10 s, then one a minute.
    expect(error.retryAfterMs).toBe(130_000);
    clock.now = T0 + 130_000 - 1;
    await caught(fetchKeepaProducts(settings, ids, { buybox: false }));
    clock.now = T0 + 130_000;
    expect((await fetchKeepaProducts(settings, ids, { buybox: false })).tokens.tokensLeft).toBe(10);
  });

  it('turns 500 and 503 into retryable server errors', async () => {
    const { fake, settings } = await start({ products: [product(asin(1))] });
    fake.failNext(500);
    fake.failNext(503);
    const first = await caught(fetchKeepaProducts(settings, [asin(1)]));
    expect(first).toMatchObject({ kind: 'server', status: 500 });
    expect(first.retryable).toBe(true);
    expect((await caught(fetchKeepaProducts(settings, [asin(1)])))).toMatchObject({ kind: 'server', status: 503 });
    expect((await fetchKeepaProducts(settings, [asin(1)])).unknown).toEqual([]);
  });

  it('turns a wrong key into a request error that does not retry and does not show the key', async () => {
    const { settings } = await start();
    const wrongKey = 'wrong-secret-key-0123456789';
    const error = await caught(fetchKeepaProducts({ ...settings, apiKey: wrongKey }, [asin(1)]));
    expect(error).toMatchObject({ kind: 'request', status: 400, type: 'invalidKey' });
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/request rejected/);
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain(wrongKey);
  });

  it('turns 402, 405 and an error object in a 200 reply into request errors', async () => {
    const { fake, settings } = await start();
    fake.failNext(402, 1, JSON.stringify({ timestamp: T0, tokensLeft: 0, refillIn: 0, refillRate: 0, tokensConsumed: 0, error: { type: 'paymentRequired', message: 'Your subscription has expired.', details: null } }));
    fake.failNext(405);
    fake.failNext(200, 1, JSON.stringify({ timestamp: T0, tokensLeft: 10, refillIn: 1000, refillRate: 20, tokensConsumed: 0, error: { type: 'invalidParameter', message: 'Invalid stats parameter.', details: 'stats=x' } }));
    expect(await caught(fetchKeepaProducts(settings, [asin(1)]))).toMatchObject({ kind: 'request', status: 402, type: 'paymentRequired', message: expect.stringMatching(/payment required.*subscription has expired/) });
    expect(await caught(fetchKeepaProducts(settings, [asin(1)]))).toMatchObject({ kind: 'request', status: 405 });
    expect(await caught(fetchKeepaProducts(settings, [asin(1)]))).toMatchObject({ kind: 'request', status: 200, type: 'invalidParameter', details: 'stats=x' });
  });

  it('turns a 200 reply that is not JSON, or lacks products, into a server error', async () => {
    const { fake, settings } = await start();
    fake.failNext(200, 1, '<html>maintenance</html>');
    fake.failNext(200, 1, JSON.stringify({ timestamp: T0, tokensLeft: 10, refillIn: 1000, refillRate: 20 }));
    expect(await caught(fetchKeepaProducts(settings, [asin(1)]))).toMatchObject({ kind: 'server', status: 200 });
    expect(await caught(fetchKeepaProducts(settings, [asin(1)]))).toMatchObject({ kind: 'server', status: 200 });
  });

  it('turns no answer (timeout, refused connection) into a network error without the key', async () => {
    const { fake, settings } = await start();
    fake.hangNext();
    const timedOut = await caught(fetchKeepaProducts({ ...settings, timeoutMs: 200 }, [asin(1)]));
    expect(timedOut).toMatchObject({ kind: 'network', status: 0 });
    expect(timedOut.message).toMatch(/no answer within 200 ms/);
    const url = fake.url;
    await fake.close();
    const refused = await caught(fetchKeepaProducts({ ...settings, apiUrl: url }, [asin(1)]));
    expect(refused).toMatchObject({ kind: 'network', status: 0 });
    expect(refused.retryable).toBe(true);
    expect(`${refused.message} ${String(refused.cause)}`).not.toContain(settings.apiKey);
  });
});

describe('fetchKeepaTokens', () => {
  it('reads the token status for free', async () => {
    const { fake, settings, clock } = await start({ tokens: 300, refillRate: 5, refillInMs: 12_345 });
    clock.now = T0 + 1_000;
    expect(await fetchKeepaTokens(settings)).toEqual({ tokensLeft: 300, refillIn: 11_345, refillRate: 5, timestamp: T0 + 1_000, tokensConsumed: 0 });
    expect(fake.requests.map((r) => [r.path, r.query])).toEqual([['/token', { key: fake.key }]]);
    expect(fake.tokenState().tokensLeft).toBe(300);
  });

  it('sees refills, capped at an hour of them', async () => {
    const { fake, settings, clock } = await start({ tokens: 100, refillRate: 5, refillInMs: 20_000 });
    fake.setTokens(10);
    clock.now = T0 + 20_000 + 60_000; // two refills
    expect((await fetchKeepaTokens(settings)).tokensLeft).toBe(20);
    clock.now = T0 + 5 * 3_600_000;
    expect((await fetchKeepaTokens(settings)).tokensLeft).toBe(300);
  });

  it('rejects a wrong key', async () => {
    const { settings } = await start();
    expect(await caught(fetchKeepaTokens({ ...settings, apiKey: 'nope' }))).toMatchObject({ kind: 'request', status: 400 });
  });
});

describe('the fake Keepa itself', () => {
  it('requires the domain, at most 100 ASINs, and the key, with Keepa error objects', async () => {
    const { fake } = await start();
    const get = async (query: string) => {
      const response = await fetch(`${fake.url}/product?${query}`);
      return { status: response.status, body: (await response.json()) as { error?: { type: string }; tokensLeft?: number } };
    };
    const noDomain = await get(`key=${fake.key}&asin=B000000001`);
    expect(noDomain.status).toBe(400);
    expect(noDomain.body.error).toMatchObject({ type: 'invalidParameter' });
    expect(noDomain.body).toHaveProperty('tokensLeft');
    expect((await get(`key=${fake.key}&domain=7&asin=B000000001`)).status).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => asin(i)).join(',');
    expect((await get(`key=${fake.key}&domain=1&asin=${many}`)).status).toBe(400);
    expect((await get(`key=bad&domain=1&asin=B000000001`)).body.error?.type).toBe('invalidKey');
    expect((await fetch(`${fake.url}/product?key=${fake.key}&domain=1&asin=B000000001`, { method: 'DELETE' })).status).toBe(405);
    expect((await get(`key=${fake.key}&domain=1&asin=B000000001`)).status).toBe(200);
  });

  it('compresses its replies for clients that accept gzip', async () => {
    const { fake } = await start();
    const response = await fetch(`${fake.url}/token?key=${fake.key}`);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.json()).toMatchObject({ tokensLeft: 1200 });
  });
});

describe('waitForTokensMs', () => {
  const status = (over: Partial<KeepaTokens>): KeepaTokens => ({ tokensLeft: 0, refillIn: 30_000, refillRate: 20, timestamp: T0, ...over });

  it('is 0 when the balance covers the cost', () => {
    expect(waitForTokensMs(status({ tokensLeft: 100 }), 100, T0)).toBe(0);
    expect(waitForTokensMs(status({ tokensLeft: 300 }), 100, T0)).toBe(0);
  });

  it('waits for the next refill when one covers the shortfall', () => {
    expect(waitForTokensMs(status({ tokensLeft: 90 }), 100, T0)).toBe(30_000);
    expect(waitForTokensMs(status({ tokensLeft: 80 }), 100, T0)).toBe(30_000);
    // Measured from `now`, not from the status's timestamp.
    expect(waitForTokensMs(status({ tokensLeft: 80 }), 100, T0 + 10_000)).toBe(20_000);
  });

  it('adds a minute for each further refill, and pays back a negative balance first', () => {
    expect(waitForTokensMs(status({ tokensLeft: 79 }), 100, T0)).toBe(90_000);
    expect(waitForTokensMs(status({ tokensLeft: 0 }), 100, T0)).toBe(30_000 + 4 * 60_000);
    expect(waitForTokensMs(status({ tokensLeft: -50, refillRate: 5 }), 10, T0)).toBe(30_000 + 11 * 60_000);
  });

  it('is 0 once the refills needed are due, and uses the clock by default', () => {
    expect(waitForTokensMs(status({ tokensLeft: 90 }), 100, T0 + 31_000)).toBe(0);
    const now = Date.now();
    const wait = waitForTokensMs(status({ tokensLeft: 90, timestamp: now }), 100);
    expect(wait).toBeGreaterThan(29_000);
    expect(wait).toBeLessThanOrEqual(30_000);
  });

  it('is Infinity when no refill can ever cover the cost', () => {
    expect(waitForTokensMs(status({ refillRate: 0 }), 1, T0)).toBe(Infinity);
    // 5 a minute holds at most 300 (tokens expire after an hour).
    expect(waitForTokensMs(status({ refillRate: 5 }), 301, T0)).toBe(Infinity);
    expect(waitForTokensMs(status({ refillRate: 5 }), 300, T0)).toBe(30_000 + 59 * 60_000);
  });
});

describe('parseJsonAllowingNaN', () => {
  it('reads bare NaN, Infinity and -Infinity as null', () => {
    expect(parseJsonAllowingNaN('[NaN, 1.5, -Infinity, Infinity]')).toEqual([null, 1.5, null, null]);
    expect(parseJsonAllowingNaN('{"a":NaN,"b":{"c":[NaN]}}')).toEqual({ a: null, b: { c: [null] } });
    expect(parseJsonAllowingNaN('NaN')).toBeNull();
  });

  it('leaves NaN inside strings and keys alone, escaped quotes included', () => {
    expect(parseJsonAllowingNaN('{"NaN": "NaN", "t": "a \\"NaN\\" b", "u": "\\\\", "v": NaN}')).toEqual({ NaN: 'NaN', t: 'a "NaN" b', u: '\\', v: null });
    expect(replaceNonFiniteTokens('["Infinity", "-Infinity x"]')).toBe('["Infinity", "-Infinity x"]');
  });

  it('still rejects what is not JSON', () => {
    expect(() => parseJsonAllowingNaN('{"a": NaNa}')).toThrow(SyntaxError);
    expect(() => parseJsonAllowingNaN('{"a": nan}')).toThrow(SyntaxError);
    expect(() => parseJsonAllowingNaN('{"a": NaN')).toThrow(SyntaxError);
  });
});
