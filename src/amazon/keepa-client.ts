/**
 * A small client for the two Keepa API requests the enrichment needs (webmunk-server.md §4.2):
 * the product request, for up to 100 ASINs at once, and the token status. It sends one request and
 * reports what happened; waiting for tokens and retrying are the caller's (waitForTokensMs says how
 * long). Nothing here logs, and the API key never appears in an error.
 *
 * Keepa's documented behaviour it relies on: `GET {base}/product?key=&domain=&asin=A,B,…`
 * (≤ 100 ASINs, 1 token each, `buybox=1` 2 more each), `GET {base}/token?key=` (free); every reply
 * carries `timestamp`, `tokensLeft`, `refillIn` (ms to the next refill), `refillRate` (tokens a
 * minute) and `tokensConsumed`; 429 when the tokens do not cover the request; 400 (bad key or
 * parameter), 402 and 405 with an `error` object `{type, message, details}`; an ASIN Keepa does not
 * know comes back as a product with only `asin` (and `domainId`, `productType` 4) set.
 */

export const KEEPA_API_URL = 'https://api.keepa.com';
/** Keepa's limit of ASINs a product request. */
export const KEEPA_MAX_ASINS = 100;
/** Tokens are added once a minute, `refillRate` at a time. */
const REFILL_PERIOD_MS = 60_000;
/** Unused tokens expire after an hour: the balance never exceeds an hour of refills. */
const BUCKET_MINUTES = 60;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface KeepaTokens {
  tokensLeft: number;
  /** Milliseconds from `timestamp` to the next refill. */
  refillIn: number;
  /** Tokens added a minute. */
  refillRate: number;
  /** Keepa's clock when it answered (ms since the epoch). */
  timestamp: number;
  tokensConsumed?: number;
}

export interface KeepaSettings {
  /** KEEPA_API_URL; default https://api.keepa.com. */
  apiUrl: string;
  apiKey: string;
  /** Amazon locale: 1 = amazon.com. */
  domain: number;
  /** Per request, including reading the body. Default 60 s. */
  timeoutMs?: number;
}

export interface KeepaProductOptions {
  /** Price, rank and offer history (`csv`). Keepa's default; on here too. */
  history?: boolean;
  /**
   * Buy box data (`buybox=1`), as the original requested: 2 more tokens a product. Default true so
   * the stored product has what the original's had; false to pay 1 token a product.
   */
  buybox?: boolean;
  /** Keepa's `stats` parameter (days, or a range), passed through. No extra cost. */
  stats?: number | string;
  /** Cancels the request (combined with the timeout). */
  signal?: AbortSignal;
}

export type KeepaErrorKind = 'tokens' | 'server' | 'request' | 'network';

/**
 * A failed Keepa request. `kind`: 'tokens' (429: wait `retryAfterMs`, then retry), 'server' (5xx
 * or an unreadable reply) and 'network' (no reply, timeout): retry later; 'request' (400, 402, 405,
 * other 4xx, or an `error` object in a reply): the request itself is wrong, do not retry as is.
 */
export class KeepaError extends Error {
  /** HTTP status; 0 when there was no reply. */
  readonly status: number;
  readonly kind: KeepaErrorKind;
  /** For 'tokens': how long until the request can be afforded (from refillIn and refillRate). */
  readonly retryAfterMs?: number;
  /** Token status when the reply carried one (429 always does). */
  readonly tokens?: KeepaTokens;
  /** Keepa's `error.type` and `error.details`, when present. */
  readonly type?: string;
  readonly details?: string;

  constructor(message: string, init: { status: number; kind: KeepaErrorKind; retryAfterMs?: number; tokens?: KeepaTokens; type?: string; details?: string; cause?: unknown }) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KeepaError';
    this.status = init.status;
    this.kind = init.kind;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.tokens !== undefined) this.tokens = init.tokens;
    if (init.type !== undefined) this.type = init.type;
    if (init.details !== undefined) this.details = init.details;
  }

  /** Worth sending again later (everything but 'request'). */
  get retryable(): boolean {
    return this.kind !== 'request';
  }
}

export interface KeepaProductsResult {
  /** Every requested ASIN Keepa answered for, found or stub, keyed as requested. */
  products: Map<string, Record<string, unknown>>;
  /** Requested ASINs Keepa does not know: stub products (no title and no data) and ASINs missing from the reply. */
  unknown: string[];
  /** The token status after the request. */
  tokens: KeepaTokens;
}

/** Tokens a product request costs: 1 a product, plus 2 a product with buybox (Keepa's price list). */
export function keepaProductCost(asinCount: number, options: Pick<KeepaProductOptions, 'buybox'> = {}): number {
  return asinCount * (1 + ((options.buybox ?? true) ? 2 : 0));
}

/**
 * One product request for up to 100 ASINs (duplicates are sent once). Throws RangeError for none
 * or more than 100, TypeError for an empty ASIN or one with a comma or space, KeepaError when
 * Keepa refuses or fails (see KeepaError for which to retry).
 */
export async function fetchKeepaProducts(settings: KeepaSettings, asins: readonly string[], options: KeepaProductOptions = {}): Promise<KeepaProductsResult> {
  const unique = [...new Set(asins)];
  if (unique.length === 0 || unique.length > KEEPA_MAX_ASINS) {
    throw new RangeError(`A Keepa product request takes 1 to ${KEEPA_MAX_ASINS} ASINs, not ${unique.length}.`);
  }
  for (const asin of unique) {
    if (typeof asin !== 'string' || asin === '' || /[,\s]/.test(asin)) throw new TypeError(`Not an ASIN: ${JSON.stringify(asin)}.`);
  }
  const params: Record<string, string> = {
    domain: String(settings.domain),
    asin: unique.join(','),
    history: options.history === false ? '0' : '1',
  };
  if (options.buybox ?? true) params.buybox = '1';
  if (options.stats !== undefined) params.stats = String(options.stats);
  const cost = keepaProductCost(unique.length, options);

  const { body, tokens } = await keepaGet(settings, 'product', params, cost, options.signal);
  if (!Array.isArray(body.products)) throw malformed('product reply without a products list', 200);

  const byAsin = new Map<string, Record<string, unknown>>();
  for (const product of body.products) {
    if (isObject(product) && typeof product.asin === 'string') byAsin.set(product.asin.toUpperCase(), product);
  }
  const products = new Map<string, Record<string, unknown>>();
  const unknown: string[] = [];
  for (const asin of unique) {
    const product = byAsin.get(asin.toUpperCase());
    if (product) products.set(asin, product);
    if (!product || isUnknownProduct(product)) unknown.push(asin);
  }
  return { products, unknown, tokens };
}

/** The token status (a free request). */
export async function fetchKeepaTokens(settings: KeepaSettings, options: { signal?: AbortSignal } = {}): Promise<KeepaTokens> {
  return (await keepaGet(settings, 'token', {}, 0, options.signal)).tokens;
}

/**
 * How long to wait (ms) before a request costing `cost` tokens can be sent, given the last token
 * status: 0 when the balance covers it (or the refills it needed are already due by `now`).
 * Keepa adds `refillRate` tokens at `timestamp + refillIn` and every minute after; a negative
 * balance has to be paid back first. Infinity when it can never be afforded: `refillRate` is 0, or
 * the cost exceeds an hour of refills (the most the balance can hold) — split the batch.
 */
export function waitForTokensMs(tokens: KeepaTokens, cost: number, now: number = Date.now()): number {
  if (tokens.tokensLeft >= cost) return 0;
  if (!(tokens.refillRate > 0) || cost > tokens.refillRate * BUCKET_MINUTES) return Infinity;
  const refills = Math.ceil((cost - tokens.tokensLeft) / tokens.refillRate);
  const readyAt = tokens.timestamp + Math.max(0, tokens.refillIn) + (refills - 1) * REFILL_PERIOD_MS;
  return Math.max(0, readyAt - now);
}

/**
 * JSON.parse that also takes the bare `NaN`, `Infinity` and `-Infinity` tokens Python writes
 * (stored metadata, federated peers): outside strings they become null; inside strings nothing
 * changes. Anything else that is not JSON still throws a SyntaxError.
 */
export function parseJsonAllowingNaN(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  return JSON.parse(replaceNonFiniteTokens(text));
}

/** Rewrites NaN / Infinity / -Infinity tokens outside strings to null (exported for tests). */
export function replaceNonFiniteTokens(text: string): string {
  let out = '';
  let copiedTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, honouring escapes.
      i++;
      while (i < n) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i += 2;
        else if (s === 0x22) { i++; break; }
        else i++;
      }
      continue;
    }
    let token = '';
    if (c === 0x4e /* N */ && text.startsWith('NaN', i)) token = 'NaN';
    else if (c === 0x49 /* I */ && text.startsWith('Infinity', i)) token = 'Infinity';
    else if (c === 0x2d /* - */ && text.startsWith('-Infinity', i)) token = '-Infinity';
    if (token !== '' && !isIdentifierChar(text.charCodeAt(i + token.length)) && !isIdentifierChar(text.charCodeAt(i - 1))) {
      out += text.slice(copiedTo, i) + 'null';
      i += token.length;
      copiedTo = i;
      continue;
    }
    i++;
  }
  return copiedTo === 0 ? text : out + text.slice(copiedTo);
}

function isIdentifierChar(code: number): boolean {
  // NaN (charCodeAt past either end) is not a character.
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code === 0x2e;
}

/** A stub: Keepa has no title and no history for it. */
function isUnknownProduct(product: Record<string, unknown>): boolean {
  if (typeof product.title === 'string' && product.title !== '') return false;
  const csv = product.csv;
  if (Array.isArray(csv) && csv.some((series) => Array.isArray(series) && series.length > 0)) return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(what: string, status: number, cause?: unknown): KeepaError {
  return new KeepaError(`Keepa sent an unreadable reply (${what}).`, { status, kind: 'server', cause });
}

function parseTokens(body: Record<string, unknown>): KeepaTokens | undefined {
  const { tokensLeft, refillIn, refillRate, timestamp, tokensConsumed } = body;
  if (![tokensLeft, refillIn, refillRate, timestamp].every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  const tokens: KeepaTokens = { tokensLeft: tokensLeft as number, refillIn: refillIn as number, refillRate: refillRate as number, timestamp: timestamp as number };
  if (typeof tokensConsumed === 'number' && Number.isFinite(tokensConsumed)) tokens.tokensConsumed = tokensConsumed;
  return tokens;
}

async function keepaGet(settings: KeepaSettings, path: 'product' | 'token', params: Record<string, string>, cost: number, signal?: AbortSignal): Promise<{ body: Record<string, unknown>; tokens: KeepaTokens }> {
  const redact = (text: string): string => (settings.apiKey ? text.split(settings.apiKey).join('***') : text);
  const base = (settings.apiUrl || KEEPA_API_URL).replace(/\/+$/, '');
  const query = new URLSearchParams({ key: settings.apiKey, ...params });
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;

  let status: number;
  let text: string;
  try {
    const response = await fetch(`${base}/${path}?${query}`, { signal: combined, headers: { accept: 'application/json' } });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const timedOut = timeout.aborted && !signal?.aborted;
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
    // The cause is kept without anything that could carry the URL (and so the key).
    throw new KeepaError(redact(`Keepa ${path} request failed: ${reason}.`), { status: 0, kind: 'network', cause: new Error(redact(reason)) });
  }

  let parsed: unknown;
  try {
    parsed = parseJsonAllowingNaN(text);
  } catch (error) {
    parsed = undefined;
    if (status >= 200 && status < 300) throw malformed('not JSON', status, new Error(redact((error as Error).message)));
  }
  const body = isObject(parsed) ? parsed : {};
  const tokens = parseTokens(body);
  const keepaError = isObject(body.error) ? body.error : undefined;
  const described = keepaError
    ? redact([keepaError.type, keepaError.message].filter((v) => typeof v === 'string' && v !== '').join(': '))
    : '';
  const extra = {
    ...(tokens ? { tokens } : {}),
    ...(keepaError && typeof keepaError.type === 'string' ? { type: keepaError.type } : {}),
    ...(keepaError && typeof keepaError.details === 'string' ? { details: redact(keepaError.details) } : {}),
  };

  if (status === 429) {
    let retryAfterMs = REFILL_PERIOD_MS;
    if (tokens) {
      // Measured on Keepa's clock, so a skewed local clock does not matter.
      const wait = waitForTokensMs(tokens, cost, tokens.timestamp);
      retryAfterMs = Number.isFinite(wait) ? Math.max(wait, tokens.refillIn) : Math.max(0, tokens.refillIn);
    }
    const left = tokens ? `${tokens.tokensLeft} tokens left, ${cost} needed` : 'no token status';
    throw new KeepaError(`Keepa: not enough tokens (${left}); retry in ${retryAfterMs} ms.`, { status, kind: 'tokens', retryAfterMs, ...extra });
  }
  if (status >= 500) {
    throw new KeepaError(`Keepa ${path} request failed with HTTP ${status}${described ? ` (${described})` : ''}.`, { status, kind: 'server', ...extra });
  }
  if (status < 200 || status >= 300 || keepaError) {
    const label = status === 402 ? 'payment required' : status === 405 ? 'method not allowed' : status === 400 ? 'request rejected' : `HTTP ${status}`;
    throw new KeepaError(`Keepa ${path} request refused: ${label}${described ? ` (${described})` : ''}.`, { status, kind: 'request', ...extra });
  }
  if (!tokens) throw malformed('no token status', status);
  return { body, tokens };
}

function describeNetworkError(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const code = e?.cause?.code ?? e?.cause?.message;
  return [e?.message ?? String(error), code].filter(Boolean).join(': ');
}
