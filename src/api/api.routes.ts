/**
 * The PDK query API the enrollment server and analysts call (ecosystem-api.md §2.2–2.4):
 * POST /data/api/data-points.json, data-sources.json and data-sources/update.json, with a token.
 * Registered beside the dashboard, outside its login and CSRF hooks; the server folds doubled
 * slashes, so the Python client's `/data//api/...` arrives here too. Every success is exactly 200:
 * the client retries anything else for 16 minutes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { withTransaction } from '../db/transaction.ts';
import { createConcurrencyGate } from '../concurrency-gate.ts';
import { DcsError } from '../errors.ts';
import type { ApiDeps, PostRoute } from './api-deps.ts';
import { jsonField, MAX_NAME, pageOf, readFields, snapshotOf, type ApiFields } from './api-request.ts';
import { authenticate } from './authenticate.ts';
import { exclusionsInForce, includeExcluded } from './exclusions-in-force.ts';
import { orderClause, SqlParams, whereClause } from './lookups.ts';
import { latestPointId, POINT_ORDER, queryPoints, type PointMatch } from './points.repository.ts';
import { countSources, pageSources, setSourcesGroup, setSourcesName, SOURCE_FIELDS, SOURCE_ORDER } from './sources.repository.ts';
import { sendJson } from './api-reply.ts';
import { registerRequestTokenRoute } from './request-token.route.ts';

/** Longest a query may run before it is cancelled (503): the original had no bound at all. */
export const API_STATEMENT_TIMEOUT_MS = 30_000;
/**
 * API queries at once per process, and how many more may wait: a script calling in parallel must
 * not take every database connection from uploads and the dashboard (DB_POOL_SIZE, default 20).
 * The enrollment server calls one at a time. Beyond the queue a call gets 503 and Retry-After.
 */
export const API_CONCURRENT_QUERIES = 8;
export const API_WAITING_QUERIES = 64;
/** Enough for a `source__in` list of 10,000 participants. */
export const API_BODY_LIMIT = 1024 * 1024;

/** Query statements cancelled by the statement timeout become a 503 that says why. */
function timeoutAware(error: unknown): never {
  if ((error as { code?: string }).code === '57014') throw new DcsError('DCS_ERR_API_TIMEOUT');
  throw error;
}

/** The reply's match: the point as stored, with the server's two times inside its metadata. */
function pointMatch(point: PointMatch): Record<string, unknown> {
  const properties = point.properties;
  const metadata = properties['passive-data-metadata'];
  const carrier = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata as Record<string, unknown> : {};
  properties['passive-data-metadata'] = { ...carrier, pdk_server_created: point.createdEpoch, pdk_server_recorded: point.recordedEpoch };
  return properties;
}

/** What a query asked for, for the log: the filter keys, never their values, never the token. */
interface ParsedQuery {
  filters: unknown;
  excludes: unknown;
  orderBy: unknown;
}

function parseQuery(fields: ApiFields): ParsedQuery {
  return { filters: jsonField(fields, 'filters', []), excludes: jsonField(fields, 'excludes', []), orderBy: jsonField(fields, 'order_by', []) };
}

function keysOf(objects: unknown): string[] {
  return Array.isArray(objects) ? objects.flatMap((o) => (o && typeof o === 'object' ? Object.keys(o) : [])) : [];
}

function logged(query: ParsedQuery): Record<string, unknown> {
  return { filters: keysOf(query.filters), excludes: keysOf(query.excludes), orderBy: Array.isArray(query.orderBy) ? query.orderBy.flat() : [] };
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { pool, log } = deps;
  const query = { readOnlySnapshot: true, statementTimeoutMs: API_STATEMENT_TIMEOUT_MS };
  const gate = createConcurrencyGate(API_CONCURRENT_QUERIES, API_WAITING_QUERIES);
  const rulesInForce = exclusionsInForce(pool);
  const gated = async <T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> => {
    const result = await gate.run(work);
    if (result === 'busy') reply.header('retry-after', '5');
    if (result === 'busy') throw new DcsError('DCS_ERR_BUSY', `More than ${API_CONCURRENT_QUERIES + API_WAITING_QUERIES} API calls at once; retry in a few seconds.`);
    return result;
  };
  const post: PostRoute = (path, handler) => {
    app.post(path, { bodyLimit: API_BODY_LIMIT }, handler);
    // The original answered 405 with Allow: POST to every other method.
    app.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH'],
      url: path,
      handler: async (_request, reply) => {
        reply.header('allow', 'POST');
        throw new DcsError('DCS_ERR_METHOD_NOT_ALLOWED', 'This API call takes POST.');
      },
    });
  };

  post('/data/api/data-points.json', async (request, reply) => {
    const fields = readFields(request);
    const holder = await authenticate(pool, request, fields, 'read');
    const { pageSize, pageIndex } = pageOf(fields);
    const parsed = parseQuery(fields);
    const order = orderClause(POINT_ORDER, parsed.orderBy);
    const snapshot = snapshotOf(fields);
    const exclusions = includeExcluded(fields) ? [] : await rulesInForce();
    const started = performance.now();
    const result = await gated(reply, () => withTransaction(pool, async (client) => ({
      latest: snapshot ?? await latestPointId(client),
      ...await queryPoints(client, { filters: parsed.filters, excludes: parsed.excludes, order, snapshot, exclusions }, pageSize, pageIndex * pageSize),
    }), query)).catch(timeoutAware);
    log.info({ api: 'data-points', token: holder.name, tokenKind: holder.kind, ...logged(parsed), count: result.count, ms: Math.round(performance.now() - started) }, 'API call');
    return sendJson(reply, { latest: result.latest, count: result.count, page_index: pageIndex, page_size: pageSize, matches: result.matches.map(pointMatch) }, 2);
  });

  post('/data/api/data-sources.json', async (request, reply) => {
    const fields = readFields(request);
    const holder = await authenticate(pool, request, fields, 'read');
    const params = new SqlParams();
    const { pageSize, pageIndex } = pageOf(fields);
    const parsed = parseQuery(fields);
    const where = whereClause(SOURCE_FIELDS, parsed.filters, parsed.excludes, params);
    const order = orderClause(SOURCE_ORDER, parsed.orderBy);
    const result = await gated(reply, () => withTransaction(pool, async (client) => ({
      count: await countSources(client, where, params),
      matches: await pageSources(client, where, params, order, pageSize, pageIndex * pageSize),
    }), query)).catch(timeoutAware);
    log.info({ api: 'data-sources', token: holder.name, tokenKind: holder.kind, ...logged(parsed), count: result.count }, 'API call');
    return sendJson(reply, { count: result.count, page_index: pageIndex, page_size: pageSize, matches: result.matches });
  });

  post('/data/api/data-sources/update.json', async (request, reply) => {
    const fields = readFields(request);
    const holder = await authenticate(pool, request, fields, 'read-write');
    const params = new SqlParams();
    const parsed = parseQuery(fields);
    const where = whereClause(SOURCE_FIELDS, parsed.filters, parsed.excludes, params);
    // Without a filter an update would change every source: the original failed there (500). A
    // filter of ignored keys only (max_retry_duration) narrows nothing either.
    if (whereClause(SOURCE_FIELDS, parsed.filters, [], new SqlParams()) === 'true') {
      throw new DcsError('DCS_ERR_API_QUERY', '"filters" must name the sources to update, e.g. [{"identifier": "12345678"}].');
    }
    const updates = validUpdates(jsonField(fields, 'updates', undefined));
    let updated = 0;
    await withTransaction(pool, async (client) => {
      for (const update of updates) {
        if ('group' in update) updated = await setSourcesGroup(client, where, params, update.group);
        else updated = await setSourcesName(client, where, params, update.name);
      }
    }, { statementTimeoutMs: API_STATEMENT_TIMEOUT_MS }).catch((error: unknown) => {
      if ((error as { code?: string }).code === '23505') throw new DcsError('DCS_ERR_API_QUERY', 'Another source already has that name (names are unique).');
      return timeoutAware(error);
    });
    log.info({ api: 'data-sources-update', token: holder.name, tokenKind: holder.kind, ...logged(parsed), updates: updates.map((u) => Object.keys(u)[0]), updated }, 'API call');
    return sendJson(reply, { updated });
  });

  registerRequestTokenRoute(app, deps, post);
}

type SourceUpdate = { group: string | null } | { name: string | null };

/** `updates`: a list of {"group": name | null} or {"name": name | null}; nothing else may change. */
function validUpdates(value: unknown): SourceUpdate[] {
  if (!Array.isArray(value) || value.length === 0) throw new DcsError('DCS_ERR_API_QUERY', '"updates" must be a JSON list of objects, e.g. [{"group": "Arm A"}] or [{"group": null}].');
  return value.map((update) => {
    const keys = update && typeof update === 'object' && !Array.isArray(update) ? Object.keys(update) : [];
    if (keys.length !== 1 || !['group', 'name'].includes(keys[0])) {
      throw new DcsError('DCS_ERR_API_QUERY', `Each update sets one of "group" or "name" (got ${JSON.stringify(keys)}); no other field can be changed.`);
    }
    const key = keys[0] as 'group' | 'name';
    const raw = (update as Record<string, unknown>)[key];
    const text = typeof raw === 'string' ? raw.trim() : raw;
    if (text !== null && (typeof text !== 'string' || text === '' || text.length > MAX_NAME || text.includes('\0'))) {
      throw new DcsError('DCS_ERR_API_QUERY', `"${key}" takes a name of 1 to ${MAX_NAME} characters, or null.`);
    }
    return key === 'group' ? { group: text as string | null } : { name: text as string | null };
  });
}
