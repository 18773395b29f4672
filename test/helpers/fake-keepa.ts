/**
 * A fake Keepa API (https://api.keepa.com) on 127.0.0.1, for tests: Keepa is a paid service, so
 * nothing here may reach it. It follows Keepa's documented behaviour as far as the client relies on
 * it (sources: Keepa's API documentation for the product and token requests, the official Java
 * client keepacom/api_backend (Response, RequestError, Product, KeepaAPI), and the Python `keepa`
 * client the original server used):
 *
 * - `GET /product?key=&domain=&asin=A,B,…` (up to 100 ASINs), optional `history` (default 1; 0
 *   leaves out `csv`), `buybox` (1 adds the buy box history, at `buyboxCost` more tokens a product),
 *   `stats` and others (accepted and ignored). `GET /token?key=` costs nothing. A trailing slash
 *   (`/product/`, as the Python client sends) is accepted.
 * - Every JSON reply carries `timestamp` (ms), `tokensLeft`, `refillIn` (ms to the next refill),
 *   `refillRate` (tokens a minute), `tokenFlowReduction`, `tokensConsumed`, `processingTimeInMs`.
 * - Tokens: a bucket that gains `refillRate` tokens once a minute, capped at an hour's worth
 *   (Keepa: unused tokens expire after one hour). A request costing more than `tokensLeft` is
 *   refused with 429 and the token fields, and consumes nothing.
 * - Errors: 400 with `error: {type, message, details}` for a wrong key or a bad parameter (Keepa
 *   answers a bad key with 400 REQUEST_REJECTED), 405 for other methods, 404 for other paths.
 * - An ASIN Keepa does not know comes back as a stub product: `asin` and `domainId` set,
 *   `productType` 4 (INVALID), `title`, `csv` and the other fields null or 0.
 * - Replies are gzip-compressed when the client accepts it (Keepa always compresses).
 *
 * Test-only extras: `failNext` (500/503/… or any status and body), `hangNext` (no answer), a
 * settable clock, and `emitNaN`, which writes NaN numbers as bare `NaN` tokens the way the
 * original's Python JSON (and a federated peer) does; Keepa itself does not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface FakeKeepaOptions {
  /** The one valid API key. Default 'test-keepa-key'. */
  key?: string;
  /** Tokens at the start. Default 1200 (a 20-a-minute plan's full hour). */
  tokens?: number;
  /** Tokens added each minute. Default 20. */
  refillRate?: number;
  /** Milliseconds from the start to the first refill; later ones follow every 60 s. Default 60 000. */
  refillInMs?: number;
  /** The most tokens the bucket holds. Default an hour of refills (refillRate × 60). */
  maxTokens?: number;
  /** Extra tokens per product when `buybox=1`. Default 2. */
  buyboxCost?: number;
  /** The server's clock (ms since the epoch). Default Date.now. */
  clock?: () => number;
  /** Known products, by ASIN. More can be added through `products`. */
  products?: Iterable<Record<string, unknown>>;
  /** Write NaN numbers as bare `NaN` (not Keepa's behaviour; a peer's). Default false. */
  emitNaN?: boolean;
}

export interface FakeKeepaRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface FakeKeepa {
  /** Base URL, e.g. http://127.0.0.1:40123 (KEEPA_API_URL). */
  url: string;
  key: string;
  /** Known products by ASIN (upper case); edit freely between requests. */
  products: Map<string, Record<string, unknown>>;
  /** Every request received, in order (the query includes the key: test keys only). */
  requests: FakeKeepaRequest[];
  /** Sets the token balance now (may be negative, as Keepa's can be). */
  setTokens(n: number): void;
  /** The balance and the next refill time, after applying the refills due by now. */
  tokenState(): { tokensLeft: number; nextRefillAt: number };
  /** The next `count` requests get this status and body (default: an HTML error page, as a proxy sends for 5xx). */
  failNext(status: number, count?: number, body?: string): void;
  /** The next `count` requests get no answer at all (until close). */
  hangNext(count?: number): void;
  close(): Promise<void>;
}

/** Keepa's Amazon locales (domain ids): 7 (cn) is no longer served. */
const DOMAINS = new Set([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
const REFILL_PERIOD_MS = 60_000;
const MAX_ASINS = 100;
const NAN_MARK = '\u0000NaN\u0000';

/** The product Keepa sends for an ASIN it does not know (fields as the Java Product defaults). */
export function stubProduct(asin: string, domainId: number): Record<string, unknown> {
  return {
    csv: null,
    categories: null,
    imagesCSV: null,
    manufacturer: null,
    title: null,
    lastUpdate: 0,
    lastPriceChange: 0,
    rootCategory: 0,
    productType: 4,
    parentAsin: null,
    variationCSV: null,
    asin,
    domainId,
    type: null,
    hasReviews: false,
    trackingSince: 0,
    brand: null,
    size: null,
    categoryTree: null,
    eanList: null,
    upcList: null,
  };
}

export async function startFakeKeepa(options: FakeKeepaOptions = {}): Promise<FakeKeepa> {
  const key = options.key ?? 'test-keepa-key';
  const clock = options.clock ?? Date.now;
  const refillRate = options.refillRate ?? 20;
  const maxTokens = options.maxTokens ?? refillRate * 60;
  const buyboxCost = options.buyboxCost ?? 2;
  const products = new Map<string, Record<string, unknown>>();
  for (const product of options.products ?? []) products.set(String(product.asin).toUpperCase(), product);
  const requests: FakeKeepaRequest[] = [];
  const failures: Array<{ status: number; body?: string }> = [];
  let hangs = 0;
  const hanging = new Set<http.ServerResponse>();

  let tokensLeft = options.tokens ?? 1200;
  let nextRefillAt = clock() + (options.refillInMs ?? REFILL_PERIOD_MS);

  /** Applies the refills due by `now`. */
  function refill(now: number): void {
    if (now < nextRefillAt) return;
    const due = Math.floor((now - nextRefillAt) / REFILL_PERIOD_MS) + 1;
    tokensLeft = Math.min(maxTokens, tokensLeft + due * refillRate);
    nextRefillAt += due * REFILL_PERIOD_MS;
  }

  function tokenFields(now: number, consumed: number, started: number): Record<string, number> {
    return {
      timestamp: now,
      tokensLeft,
      refillIn: Math.max(0, nextRefillAt - now),
      refillRate,
      tokenFlowReduction: 0,
      tokensConsumed: consumed,
      processingTimeInMs: Math.max(0, Date.now() - started),
    };
  }

  function serialize(value: unknown): string {
    if (!options.emitNaN) return JSON.stringify(value);
    return JSON.stringify(value, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? NAN_MARK : v)).split(JSON.stringify(NAN_MARK)).join('NaN');
  }

  function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string, contentType = 'application/json;charset=UTF-8'): void {
    const raw = Buffer.from(body, 'utf8');
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const payload = gzip ? zlib.gzipSync(raw) : raw;
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': payload.length,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(payload);
  }

  function error(now: number, started: number, type: string, message: string, details: string | null = null): string {
    return serialize({ ...tokenFields(now, 0, started), error: { type, message, details } });
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://fake-keepa');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? 'GET', path, query });

    if (hangs > 0) {
      hangs--;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const failure = failures.shift();
    if (failure) {
      const body = failure.body ?? `<html><head><title>${failure.status}</title></head><body><h1>${failure.status} ${http.STATUS_CODES[failure.status] ?? ''}</h1></body></html>`;
      const isJson = /^\s*[{[]/.test(body);
      send(req, res, failure.status, body, isJson ? 'application/json;charset=UTF-8' : 'text/html');
      return;
    }

    const now = clock();
    refill(now);
    if (path !== '/product' && path !== '/token') {
      send(req, res, 404, error(now, started, 'notFound', 'Unknown request.'));
      return;
    }
    if (req.method !== 'GET') {
      send(req, res, 405, error(now, started, 'methodNotAllowed', `Method ${req.method} is not allowed for this request.`));
      return;
    }
    if (query.key !== key) {
      send(req, res, 400, error(now, started, 'invalidKey', 'Invalid or missing access key.'));
      return;
    }
    if (path === '/token') {
      send(req, res, 200, serialize(tokenFields(now, 0, started)));
      return;
    }

    const domain = Number(query.domain);
    if (query.domain === undefined || !Number.isInteger(domain) || !DOMAINS.has(domain)) {
      send(req, res, 400, error(now, started, 'invalidParameter', 'Invalid or missing domain parameter.', `domain=${query.domain ?? ''}`));
      return;
    }
    if (query.asin === undefined || query.asin.trim() === '') {
      send(req, res, 400, error(now, started, 'invalidParameter', 'The asin (or code) parameter is required.'));
      return;
    }
    const asins = [...new Set(query.asin.split(',').map((a) => a.trim().toUpperCase()).filter((a) => a !== ''))];
    if (asins.length > MAX_ASINS) {
      send(req, res, 400, error(now, started, 'invalidParameter', `Too many ASINs: at most ${MAX_ASINS} per request.`, `${asins.length} ASINs`));
      return;
    }
    const buybox = query.buybox === '1';
    const history = query.history !== '0';
    const cost = asins.length * (1 + (buybox ? buyboxCost : 0));
    if (tokensLeft <= 0 || cost > tokensLeft) {
      send(req, res, 429, serialize(tokenFields(now, 0, started)));
      return;
    }
    tokensLeft -= cost;

    const out = asins.map((asin) => {
      const known = products.get(asin);
      if (!known) return stubProduct(asin, domain);
      const product: Record<string, unknown> = { ...known, asin, domainId: domain };
      if (!history) product.csv = null;
      if (!buybox) {
        delete product.buyBoxSellerIdHistory;
        if (Array.isArray(product.csv) && product.csv.length > 18) {
          product.csv = product.csv.map((series, index) => (index === 18 ? null : series));
        }
      }
      return product;
    });
    send(req, res, 200, serialize({ ...tokenFields(now, cost, started), products: out }));
  }

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    key,
    products,
    requests,
    setTokens(n) {
      refill(clock());
      tokensLeft = n;
    },
    tokenState() {
      refill(clock());
      return { tokensLeft, nextRefillAt };
    },
    failNext(status, count = 1, body) {
      for (let i = 0; i < count; i++) failures.push({ status, body });
    },
    hangNext(count = 1) {
      hangs += count;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
