/**
 * The HTTP application: Fastify with every capability's routes, one error handler that renders
 * the error catalogue as JSON (the dashboard renders it as a page for browsers), and CORS headers
 * on the upload endpoints. `startHttpServer` puts the CREATE-method front (ingest/create-method.ts)
 * between the TCP port and Fastify.
 */
import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config, TrustProxy } from './config.ts';
import type { Pool } from './db/database.ts';
import { classifyError, DcsError, ERRORS, type ErrorCode } from './errors.ts';
import { createAdmission } from './ingest/admission.ts';
import { CREATE_CARRIER, createFramingServer, type FramingServer } from './ingest/create-method.ts';
import type { BundleNotifier } from './ingest/bundle-notifier.ts';
import { registerPeerAsinRoutes } from './amazon/support.routes.ts';
import { APP_CONFIG_PATH, registerAppConfigRoutes } from './app-config/app-config.routes.ts';
import { registerApiRoutes } from './api/api.routes.ts';
import { registerFetchMetadataRoute } from './api/fetch-metadata.routes.ts';
import { registerOpenApiRoute } from './api/openapi.route.ts';
import { registerDashboard } from './dashboard/dashboard.plugin.ts';
import { registerExternalRoutes } from './donations/external.routes.ts';
import { registerParticipantRoutes } from './donations/participant.routes.ts';
import { registerIngestRoutes } from './ingest/ingest.routes.ts';
import type { UploadStore } from './ingest/store-upload.ts';
import { CORS_HEADERS, CORS_ROUTES } from './ingest/replies.ts';
import type { Logger } from './log.ts';
import { registerMonitoringRoutes } from './monitoring/monitoring.routes.ts';

export interface AppDeps {
  pool: Pool;
  /** reads that may lag the primary (DATABASE_READ_URL, database.ts); default `pool` */
  readPool?: Pool;
  config: Config;
  log: Logger;
  notifier: BundleNotifier;
  /** where uploads are kept: the database, or the spool when it cannot take them */
  uploads: UploadStore;
}

function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ message, code });
}

/** The 413 message: uploads name MAX_BODY_BYTES; routes with their own limit (the API's) name theirs. */
function bodyTooLarge(limit: number, uploadLimit: number): string {
  return limit === uploadLimit ? `Upload larger than the limit of ${limit} bytes.` : `Request body larger than this endpoint's limit of ${limit} bytes.`;
}

/**
 * TRUST_PROXY as Fastify takes it. Fastify ignores a bare hop count (it cannot check who connects),
 * so a count becomes a function that believes that many hops from the socket inwards.
 */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust === false ? false : [...trust];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request log lines cost more than an upload itself; errors are logged where handled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.maxBodyBytes,
    // TRUST_PROXY: client address and protocol from X-Forwarded-* (login limits, Secure cookies).
    trustProxy: fastifyTrustProxy(deps.config.trustProxy),
    // The Python PDK client builds `site_url + '/api/...'` from a URL ending in a slash, so it asks
    // for /data//api/data-points.json; the original's Apache merged the slashes before Django.
    routerOptions: { ignoreDuplicateSlashes: true },
    serverFactory: (handler) => {
      const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
      return server;
    },
  });
  app.addHttpMethod(CREATE_CARRIER, { hasBody: true });

  // Every body arrives as raw bytes: the routes store it before decoding anything.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // CORS only where clients need it: the upload endpoints (browser extensions preflight them) and
  // app-config.json (public, no cookies; REX extensions read it). Never on the dashboard or the
  // other JSON: any site could read those through a staff browser.
  app.addHook('onSend', async (request, reply, payload) => {
    if (CORS_ROUTES.includes(request.routeOptions.url ?? '')) reply.headers(CORS_HEADERS);
    else if (request.routeOptions.url === APP_CONFIG_PATH) reply.header('access-control-allow-origin', '*');
    return payload;
  });

  app.setErrorHandler((error: FastifyError | DcsError | Error, request, reply) => {
    const described = classifyError(error);
    if (described.log) request.log.error({ err: error }, described.log);
    const message = described.code === 'DCS_ERR_BODY_TOO_LARGE' && !(error instanceof DcsError)
      ? bodyTooLarge(request.routeOptions.bodyLimit ?? deps.config.maxBodyBytes, deps.config.maxBodyBytes)
      : described.message;
    return reply.code(ERRORS[described.code].status).header('content-type', 'application/json').send(Buffer.from(errorBody(described.code, message)));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).header('content-type', 'application/json').send(Buffer.from(errorBody('DCS_ERR_NOT_FOUND', `Nothing at ${request.method} ${request.url}.`)));
  });

  const admission = createAdmission({
    inflightBytes: deps.config.uploadMaxInflightBytes,
    ratePerMinute: deps.config.uploadRatePerMinute,
    bytesPerMinute: deps.config.uploadBytesPerMinute,
  });
  registerIngestRoutes(app, { ...deps, admission });
  registerMonitoringRoutes(app, { ...deps, uploadAdmission: admission.stats });
  registerPeerAsinRoutes(app, deps);
  registerAppConfigRoutes(app, deps);
  registerApiRoutes(app, deps);
  registerFetchMetadataRoute(app, deps);
  registerOpenApiRoute(app, deps);
  registerExternalRoutes(app, deps);
  registerParticipantRoutes(app, deps);
  await registerDashboard(app, { ...deps, readPool: deps.readPool ?? deps.pool });
  await app.ready();
  return app;
}

/** Listens on `port` through the CREATE-method front. */
export async function startHttpServer(app: FastifyInstance, port: number, host: string): Promise<FramingServer> {
  const front = createFramingServer(app.server);
  await new Promise<void>((resolve, reject) => {
    front.server.once('error', reject);
    front.server.listen(port, host, () => {
      front.server.off('error', reject);
      // After start (e.g. EMFILE on accept): log, never crash.
      front.server.on('error', (error) => app.log.error({ err: error }, 'TCP server error'));
      resolve();
    });
  });
  return front;
}

/** Stops accepting connections, lets in-flight requests finish (up to 10 s), then closes the app. */
export async function stopHttpServer(app: FastifyInstance, front: FramingServer): Promise<void> {
  await front.drain(10_000);
  await app.close();
}
