/**
 * `GET|POST /data/app-config.json?id=<identifier>&context=<context>`: a REX extension's whole
 * configuration (ecosystem-api.md §2.5, §5). No login, no cookies; CORS for every origin (app.ts).
 * The identifier is `id`, else `identifier`, else `default`; the context `context`, else
 * `default`; other parameters (REX appends its configuration scope) are ignored. The reply is the
 * configuration resolve.ts chooses, indented by 2, with the identifier in
 * `passive_data_kit.identifier` and, where the document leaves it empty, this server's upload URL
 * in `passive_data_kit.endpoint`; what was served is recorded per identifier (the study arm).
 * Nothing matches: 404 JSON, which the extension takes as an invalid identifier.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import { DcsError } from '../errors.ts';
import { recordServed } from './assignments.repository.ts';
import { MAX_IDENTIFIER_LENGTH } from './patterns.ts';
import { createRateLimiter } from './rate-limit.ts';
import { resolveConfiguration } from './resolve.ts';

export const APP_CONFIG_PATH = '/data/app-config.json';

/** A form of a few parameters; anything larger is not a configuration request. */
const BODY_LIMIT = 16 * 1024;

type Parameters = Record<string, unknown>;

function first(value: unknown): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

/** GET: the query; POST: the form fields (application/x-www-form-urlencoded, as the original read), then the query. */
function parametersOf(request: FastifyRequest): Parameters {
  const query = (request.query ?? {}) as Parameters;
  const isForm = (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  if (request.method !== 'POST' || !isForm || !Buffer.isBuffer(request.body)) return query;
  const form: Parameters = Object.create(null);
  for (const [name, value] of new URLSearchParams(request.body.toString('utf8'))) form[name] ??= value;
  return { ...query, ...form };
}

/** The document as this participant gets it. */
export function personalise(document: string, identifier: string, uploadUrl: string): string {
  const value = JSON.parse(document) as Record<string, unknown>;
  const pdk = (value.passive_data_kit ??= {}) as Record<string, unknown>;
  pdk.identifier = identifier;
  if (pdk.endpoint === undefined || pdk.endpoint === null || pdk.endpoint === '') pdk.endpoint = uploadUrl;
  return JSON.stringify(value, null, 2);
}

export function registerAppConfigRoutes(app: FastifyInstance, deps: { pool: Pool; config: Config }): void {
  const { pool, config } = deps;
  const limiter = createRateLimiter(config.appConfigRatePerMinute);
  // add-bundle.json takes every upload method, the v3 PUT included.
  const uploadUrl = `${config.publicUrl}/data/add-bundle.json`;

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!limiter.allow(request.ip)) throw new DcsError('DCS_ERR_TOO_MANY_REQUESTS');
    const parameters = parametersOf(request);
    const identifier = first(parameters.id) ?? first(parameters.identifier) ?? 'default';
    const context = first(parameters.context) ?? 'default';
    if (identifier.length > MAX_IDENTIFIER_LENGTH || context.length > MAX_IDENTIFIER_LENGTH) {
      throw new DcsError('DCS_ERR_BAD_REQUEST', `The identifier and the context have at most ${MAX_IDENTIFIER_LENGTH} characters.`);
    }
    // PostgreSQL text cannot hold NUL (the served record would fail); no identifier has one.
    if (identifier.includes('\0') || context.includes('\0')) throw new DcsError('DCS_ERR_BAD_REQUEST', 'The identifier and the context cannot contain a NUL character.');
    const resolved = await withTransaction(pool, async (client) => {
      const found = await resolveConfiguration(client, identifier, context, config.appConfigDefault);
      if (found) await recordServed(client, identifier, { configurationId: found.configuration.id, version: found.configuration.version, chosenBy: found.chosenBy });
      return found;
    });
    if (!resolved) throw new DcsError('DCS_ERR_UNKNOWN_IDENTIFIER');
    // As bytes: Fastify would add "; charset=utf-8" to a string (the original sends the bare type).
    return reply.header('content-type', 'application/json').header('cache-control', 'no-store')
      .send(Buffer.from(personalise(resolved.configuration.document, identifier, uploadUrl)));
  };
  app.get(APP_CONFIG_PATH, handler);
  app.post(APP_CONFIG_PATH, { bodyLimit: BODY_LIMIT }, handler);
}
