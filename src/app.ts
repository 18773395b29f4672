/**
 * The HTTP application: Fastify with every capability's routes, one error handler that renders
 * the error catalogue as JSON, and CORS headers on every reply. `startHttpServer` puts the
 * CREATE-method front (ingest/create-method.ts) between the TCP port and Fastify.
 */
import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Pool } from './db/database.ts';
import { DcsError, ERRORS, isDatabaseUnavailable, type ErrorCode } from './errors.ts';
import { CREATE_CARRIER, createFramingServer, type FramingServer } from './ingest/create-method.ts';
import type { BundleNotifier } from './ingest/bundle-notifier.ts';
import { registerPeerAsinRoutes } from './amazon/support.routes.ts';
import { registerDashboard } from './dashboard/dashboard.plugin.ts';
import { registerIngestRoutes } from './ingest/ingest.routes.ts';
import type { UploadStore } from './ingest/store-upload.ts';
import { CORS_HEADERS } from './ingest/replies.ts';
import type { Logger } from './log.ts';
import { registerMonitoringRoutes } from './monitoring/monitoring.routes.ts';

export interface AppDeps {
  pool: Pool;
  config: Config;
  log: Logger;
  notifier: BundleNotifier;
  /** where uploads are kept: the database, or the spool when it cannot take them */
  uploads: UploadStore;
}

function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ message, code });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request log lines cost more than an upload itself; errors are logged where handled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.maxBodyBytes,
    // TRUST_PROXY: client address and protocol from X-Forwarded-* (login limits, Secure cookies).
    trustProxy: deps.config.trustProxy,
    serverFactory: (handler) => {
      const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
      return server;
    },
  });
  app.addHttpMethod(CREATE_CARRIER, { hasBody: true });

  // Every body arrives as raw bytes: the routes store it before decoding anything.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(CORS_HEADERS);
    return payload;
  });

  app.setErrorHandler((error: FastifyError | DcsError | Error, request, reply) => {
    let code: ErrorCode;
    let message: string | undefined;
    if (error instanceof DcsError) {
      code = error.code;
      message = error.message;
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = 'DCS_ERR_BODY_TOO_LARGE';
      message = `Upload larger than the limit of ${deps.config.maxBodyBytes} bytes.`;
    } else if (isDatabaseUnavailable(error)) {
      code = 'DCS_ERR_DATABASE_UNAVAILABLE';
      request.log.error({ err: error }, 'database unavailable');
    } else if ((error as FastifyError).statusCode && (error as FastifyError).statusCode! < 500) {
      code = 'DCS_ERR_BAD_REQUEST';
      message = error.message;
    } else {
      code = 'DCS_ERR_INTERNAL';
      request.log.error({ err: error }, 'request failed');
    }
    return reply.code(ERRORS[code].status).header('content-type', 'application/json').send(Buffer.from(errorBody(code, message ?? ERRORS[code].message)));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).header('content-type', 'application/json').send(Buffer.from(errorBody('DCS_ERR_NOT_FOUND', `Nothing at ${request.method} ${request.url}.`)));
  });

  registerIngestRoutes(app, deps);
  registerMonitoringRoutes(app, deps);
  registerPeerAsinRoutes(app, deps);
  await registerDashboard(app, deps);
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
