/**
 * Federation (ecosystem-api.md §2.7): an original PDK server that lists one of our sources as
 * remote posts `identifier` and `request-key` to `/data/fetch-metadata.json` and stores the JSON
 * it gets back as that source's performance metadata (pdk-server.md §9.1). No login, no CSRF: the
 * key is the credential, sent as the form field or as `Authorization: Bearer`, and compared in
 * constant time with PDK_REQUEST_KEY.
 *
 * Replies (docs/operations.md, "Federation"):
 * - PDK_REQUEST_KEY unset: 200 `{}` to everyone, as the original without the setting (off);
 * - wrong, missing or empty key: 403 JSON. The original answers 200 `{}`, which its caller stores
 *   over the metadata it had; a 403 leaves that in place and makes the caller print the status,
 *   so a misconfigured key shows instead of silently emptying the peer's dashboard. It tells an
 *   outsider nothing more than `{}` would;
 * - right key, no `identifier`: 400 JSON;
 * - right key, unknown (or removed) source: 200 `{}`, as the original;
 * - right key, known source: 200, the source's metadata with the original's keys, indented by 2.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { isOneOfTokens } from '../crypto/bearer.ts';
import type { Pool } from '../db/database.ts';
import { DcsError } from '../errors.ts';
import { findSourceStatistics, type SourceStatistics } from './source-metadata.repository.ts';

const FETCH_METADATA_PATH = '/data/fetch-metadata.json';
/** Two short fields; anything larger is not a caller of this endpoint. */
const BODY_LIMIT = 16 * 1024;

/** The form fields of an url-encoded body (Python `requests` with `data=`); none for other bodies. */
function formFields(request: FastifyRequest): URLSearchParams {
  const type = request.headers['content-type'] ?? '';
  const urlEncoded = type.split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
  return urlEncoded && Buffer.isBuffer(request.body) ? new URLSearchParams(request.body.toString('utf8')) : new URLSearchParams();
}

/** The key the caller sent: a bearer token if it sent one, otherwise the form field. */
function sentKey(request: FastifyRequest, form: URLSearchParams): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return (bearer ? bearer[1] : form.get('request-key') ?? '').trim();
}

/** Epoch seconds, whole, as the original's calendar.timegm(). */
const epochSeconds = (time: Date) => Math.floor(time.getTime() / 1000);

/**
 * The original's performance metadata from our statistics. Keys the original leaves out for a
 * source without points are left out here too: its callers turn `latest_point` with
 * `latest_point_created` into a virtual point and cannot read a null time. `latest_point_recorded`
 * is null: we do not keep which point arrived last, and no caller reads it (the original's own
 * callers look for `latest_point_recorded_created`, which it never writes).
 */
function performanceMetadata(source: string, stats: SourceStatistics): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  if (stats.latestPointCreated) {
    metadata.latest_point = stats.latestPointId;
    metadata.user_agent = stats.latestUserAgent;
    metadata.latest_point_created = epochSeconds(stats.latestPointCreated);
  }
  if (stats.latestPointRecorded) {
    metadata.latest_point_recorded = null;
    metadata.latest_point_recorded_time = epochSeconds(stats.latestPointRecorded);
  }
  metadata.point_count = stats.windowPoints;
  metadata.point_frequency = stats.frequencyHz ?? 0;
  metadata.generator_statistics = stats.generators.map((g) => {
    const seconds = (g.lastCreated.getTime() - g.firstCreated.getTime()) / 1000;
    return {
      identifier: g.generatorId,
      source,
      label: g.label,
      points_count: g.points,
      last_recorded: epochSeconds(g.lastRecorded),
      first_created: epochSeconds(g.firstCreated),
      last_created: epochSeconds(g.lastCreated),
      frequency: g.points > 1 && seconds > 0 ? g.points / seconds : 0,
    };
  });
  return metadata;
}

export function registerFetchMetadataRoute(app: FastifyInstance, deps: { pool: Pool; config: Config }): void {
  const { pool, config } = deps;
  app.post(FETCH_METADATA_PATH, { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const json = (body: unknown) => reply.type('application/json').send(JSON.stringify(body, null, 2));
    if (!config.pdkRequestKey) return json({});
    const form = formFields(request);
    const key = sentKey(request, form);
    if (!key || !isOneOfTokens(key, [config.pdkRequestKey])) {
      // a peer with an outdated key, or someone guessing: the operator should see either (never the key)
      request.log.warn({ address: request.ip }, 'fetch-metadata.json refused: wrong or missing request key');
      throw new DcsError('DCS_ERR_FORBIDDEN', 'Wrong or missing request key: send PDK_REQUEST_KEY as the form field "request-key" or as Authorization: Bearer.');
    }
    const identifier = form.get('identifier');
    if (!identifier) throw new DcsError('DCS_ERR_BAD_REQUEST', 'Send the source as the form field "identifier" (application/x-www-form-urlencoded).');
    // PostgreSQL text cannot hold NUL, so no source has one (and the query would fail on it)
    const stats = identifier.includes('\0') ? undefined : await findSourceStatistics(pool, identifier, config.metadataWindowDays, config.timeZone);
    return json(stats ? performanceMetadata(identifier, stats) : {});
  });
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: FETCH_METADATA_PATH,
    handler: async (_request, reply) => {
      reply.header('allow', 'POST');
      throw new DcsError('DCS_ERR_METHOD_NOT_ALLOWED', 'fetch-metadata.json takes POST, with the form fields "identifier" and "request-key".');
    },
  });
}
