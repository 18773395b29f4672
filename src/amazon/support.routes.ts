/**
 * The original's product endpoints (webmunk-server.md §7.1), for peer servers and analysts:
 * `GET /support/asin/<ASIN>.json` (the stored Keepa metadata; 404 "Item not yet populated" until
 * enriched, which peers read as a miss) and `GET /support/asins.json?page=N` (1,000 a page). They
 * show what a study's participants looked at, so they are not public by default: under /support
 * a bearer token from ASIN_PEER_TOKENS is needed, or an address in ASIN_ENDPOINTS_ALLOW_FROM (the
 * original's callers, the enrollment server and peer servers, send no token), unless
 * ASIN_ENDPOINTS_PUBLIC=true; the dashboard serves the same under /data/support to logged-in staff.
 */
import net from 'node:net';
import { hasBearerToken } from '../crypto/bearer.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { DcsError } from '../errors.ts';
import { normalizeAsin } from './extract-asins.ts';
import { productMetadata, productPage } from './products.repository.ts';

const PAGE_SIZE = 1000;

/** The two routes on `scope`; `guard` says who may call them there. */
export function registerAsinRoutes(scope: FastifyInstance, pool: Pool, guard?: (request: FastifyRequest) => void): void {
  scope.get('/support/asin/:file', async (request, reply) => {
    guard?.(request);
    const file = (request.params as { file: string }).file;
    const asin = file.toLowerCase().endsWith('.json') ? normalizeAsin(file.slice(0, -5)) : undefined;
    if (!asin) throw new DcsError('DCS_ERR_NOT_FOUND', 'Not an ASIN: use /support/asin/<10-character ASIN>.json.');
    const { exists, metadata } = await productMetadata(pool, asin);
    if (!exists) throw new DcsError('DCS_ERR_NOT_FOUND', 'No such product.');
    if (metadata === null) return reply.code(404).type('text/plain; charset=utf-8').send('Item not yet populated');
    return reply.type('application/json').send(JSON.stringify(metadata, null, 2));
  });

  scope.get('/support/asins.json', async (request, reply) => {
    guard?.(request);
    const text = (request.query as Record<string, string | undefined>).page ?? '0';
    const page = Number(text);
    if (!Number.isSafeInteger(page) || page < 0) throw new DcsError('DCS_ERR_BAD_REQUEST', `page must be a whole number from 0 (got "${text}").`);
    const products = await productPage(pool, page, PAGE_SIZE);
    const body = products.map((p) => ({ asin: p.asin, product_name: p.title, product_type: p.categoryTree, product_brand: p.brand, added: pythonIsoUtc(p.firstSeenMicros) }));
    // indented as the original's json.dumps(indent=2)
    return reply.type('application/json').send(JSON.stringify(body, null, 2));
  });
}

/**
 * `added` as the original wrote it (webmunk-server.md §2.1, §7.1): the `created` time of the
 * first point the product was seen in, as Python's isoformat() of an aware UTC datetime,
 * e.g. 2023-10-19T12:34:56.123456+00:00 (the microseconds left out when zero).
 */
function pythonIsoUtc(micros: bigint): string {
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = new Date(Number((micros - fraction) / 1000n)).toISOString().slice(0, 19);
  return `${seconds}${fraction ? `.${String(fraction).padStart(6, '0')}` : ''}+00:00`;
}

/** The addresses and ranges of ASIN_ENDPOINTS_ALLOW_FROM (validated by config.ts). */
function allowList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** Whether the client's address is allowed (an IPv4 client reached over IPv6, ::ffff:a.b.c.d, matches its IPv4 entries). */
function isAllowed(list: net.BlockList, address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * At the root, for peers: a token from ASIN_PEER_TOKENS, an address in ASIN_ENDPOINTS_ALLOW_FROM,
 * or open with ASIN_ENDPOINTS_PUBLIC.
 */
export function registerPeerAsinRoutes(app: FastifyInstance, deps: { pool: Pool; config: Config }): void {
  const { config } = deps;
  const allowed = allowList(config.asinEndpointsAllowFrom);
  registerAsinRoutes(app, deps.pool, (request) => {
    if (config.asinEndpointsPublic || hasBearerToken(request.headers.authorization, config.asinPeerTokens) || isAllowed(allowed, request.ip)) return;
    throw new DcsError('DCS_ERR_UNAUTHORIZED', 'Send a bearer token from ASIN_PEER_TOKENS, call from an address in ASIN_ENDPOINTS_ALLOW_FROM, or log in to the dashboard and use /data/support/.');
  });
}
