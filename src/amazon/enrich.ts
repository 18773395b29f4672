/**
 * Keepa enrichment (webmunk-server.md §4.2, rebuilt): products due are looked up on peer servers
 * first (ASIN_LOOKUP_SERVERS; a peer's hit is adopted, no Keepa call), the rest asked of Keepa
 * 100 at a time. Tokens are spent as Keepa reports them: when a batch would overspend, the run
 * waits for the refill if it comes soon and ends otherwise. A product Keepa does not know is a
 * miss, asked again with a growing delay, never blocking the queue.
 */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { fetchKeepaProducts, fetchKeepaTokens, KEEPA_MAX_ASINS, KeepaError, keepaProductCost, parseJsonAllowingNaN, waitForTokensMs, type KeepaSettings, type KeepaTokens } from './keepa-client.ts';
import { deriveProductFields } from './keepa-product.ts';
import { dueForKeepa, storeEnriched, storeMissed } from './products.repository.ts';

export interface EnrichResult {
  enriched: number;
  fromPeers: number;
  missed: number;
  requests: number;
  tokensLeft: number | null;
  /** why the run ended before the queue was empty: tokens, keepa-unavailable, time */
  stopped?: string;
}

export interface EnrichDeps {
  pool: Pool;
  config: Config;
  log: Logger;
  /** how long a run may take (the job runs every minute). Default 50 s. */
  budgetMs?: number;
}

/** Buy-box data triples Keepa's price; the derived fields do not need it. */
const PRODUCT_OPTIONS = { history: true, buybox: false } as const;
const PEER_TIMEOUT_MS = 10_000;

export function keepaSettings(config: Config): KeepaSettings {
  return { apiUrl: config.keepaApiUrl, apiKey: config.keepaApiKey ?? '', domain: config.keepaDomain };
}

/**
 * A peer's product: `GET <server>/support/asin/<asin>.json`, a hit when its `keepa[0]` is an
 * object (the contract the original meant). A server given as https://:TOKEN@host sends TOKEN as
 * a bearer token. Anything else (404 "Item not yet populated", errors) is a miss there.
 */
async function fromPeers(servers: readonly string[], asin: string, log: Logger): Promise<unknown | undefined> {
  for (const server of servers) {
    const base = new URL(server.includes('://') ? server : `https://${server}`);
    const token = decodeURIComponent(base.password || base.username);
    base.username = '';
    base.password = '';
    try {
      const response = await fetch(new URL(`support/asin/${asin}.json`, base.href.endsWith('/') ? base.href : `${base.href}/`), {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
      });
      if (!response.ok) continue;
      const body = parseJsonAllowingNaN(await response.text()) as { keepa?: unknown[] };
      if (Array.isArray(body?.keepa) && body.keepa[0] && typeof body.keepa[0] === 'object') return body;
    } catch (error) {
      log.warn({ err: error, server: base.host, asin }, 'ASIN look-up on a peer failed');
    }
  }
  return undefined;
}

export async function enrichProducts(deps: EnrichDeps): Promise<EnrichResult> {
  const { pool, config, log } = deps;
  const settings = keepaSettings(config);
  const deadline = Date.now() + (deps.budgetMs ?? 50_000);
  const result: EnrichResult = { enriched: 0, fromPeers: 0, missed: 0, requests: 0, tokensLeft: null };
  let tokens: KeepaTokens | undefined;
  const asked = new Set<string>();
  while (Date.now() < deadline) {
    const due = (await dueForKeepa(pool, KEEPA_MAX_ASINS)).filter((asin) => !asked.has(asin));
    if (due.length === 0) break;
    for (const asin of due) asked.add(asin);
    const forKeepa: string[] = [];
    for (const asin of due) {
      const peer = config.asinLookupServers.length > 0 ? await fromPeers(config.asinLookupServers, asin, log) : undefined;
      if (peer) {
        await storeEnriched(pool, asin, peer, deriveProductFields(peer));
        result.fromPeers += 1;
      } else {
        forKeepa.push(asin);
      }
    }
    if (forKeepa.length === 0) continue;
    try {
      tokens ??= await fetchKeepaTokens(settings);
      const wait = waitForTokensMs(tokens, keepaProductCost(forKeepa.length, PRODUCT_OPTIONS));
      if (Date.now() + wait > deadline) {
        result.stopped = 'tokens';
        break;
      }
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const answer = await fetchKeepaProducts(settings, forKeepa, PRODUCT_OPTIONS);
      result.requests += 1;
      tokens = answer.tokens;
      const unknown = new Set(answer.unknown);
      for (const [asin, product] of answer.products) {
        if (unknown.has(asin)) continue;
        const metadata = { keepa: [product] };
        await storeEnriched(pool, asin, metadata, deriveProductFields(metadata));
        result.enriched += 1;
      }
      await storeMissed(pool, answer.unknown);
      result.missed += answer.unknown.length;
    } catch (error) {
      if (!(error instanceof KeepaError) || error.kind === 'request') throw error;
      // Out of tokens, or Keepa unavailable: the products stay due; the next run tries again.
      tokens = error.tokens ?? tokens;
      result.stopped = error.kind === 'tokens' ? 'tokens' : 'keepa-unavailable';
      log.warn({ kind: error.kind, status: error.status, retryAfterMs: error.retryAfterMs }, `Keepa: ${error.message}`);
      break;
    }
  }
  if (Date.now() >= deadline && !result.stopped) result.stopped = 'time';
  result.tokensLeft = tokens?.tokensLeft ?? null;
  return result;
}
