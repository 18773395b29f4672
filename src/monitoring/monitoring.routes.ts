/**
 * GET /metrics (Prometheus text, from the database at scrape time; METRICS_TOKEN protects it
 * when set) and GET /healthz (load-balancer probe: answers within about 2 seconds, always).
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { hasBearerToken } from '../crypto/bearer.ts';
import type { Pool } from '../db/database.ts';
import { DcsError, isDatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createLocalMetricsRegistry, createMetricsRegistry, type UploadAdmissionCounts } from './metrics.ts';

/** How long /healthz waits for the database before answering 503. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** True when the database answers `SELECT 1` within `timeoutMs` (never throws, never waits longer). */
export async function isDatabaseReachable(pool: Pool, timeoutMs = HEALTH_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
  // query_timeout frees the connection of a query the probe has given up on.
  const probe = pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as { text: string }).then(() => true, () => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerMonitoringRoutes(app: FastifyInstance, deps: { pool: Pool; config: Config; log: Logger; uploadAdmission?: () => UploadAdmissionCounts }): void {
  const { pool, config } = deps;
  const registry = createMetricsRegistry(pool, config);
  let databaseUp = true;
  const local = createLocalMetricsRegistry(config.spoolDir, () => databaseUp, deps.uploadAdmission);

  app.get('/metrics', async (request, reply) => {
    if (config.metricsToken && !hasBearerToken(request.headers.authorization?.slice(0, 1024), [config.metricsToken])) {
      throw new DcsError('DCS_ERR_UNAUTHORIZED', 'Missing or wrong bearer token for /metrics (METRICS_TOKEN).');
    }
    let text = '';
    try {
      text = await registry.metrics();
      databaseUp = true;
    } catch (error) {
      // During an outage the scrape still answers: the database is down, the spool fills.
      if (!isDatabaseUnavailable(error)) throw error;
      databaseUp = false;
    }
    text += await local.metrics();
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
  });

  app.get('/healthz', async (_request, reply) => {
    const ok = await isDatabaseReachable(pool);
    return reply
      .code(ok ? 200 : 503)
      .header('content-type', 'application/json')
      .header('cache-control', 'no-store')
      .send(Buffer.from(JSON.stringify({ status: ok ? 'ok' : 'unavailable' })));
  });
}
