/**
 * The PDK External Data endpoints the rest of a Webmunk deployment calls (ecosystem-api.md §2.8),
 * outside the dashboard's login. WORK IN PROGRESS (branch i20-flow): the signed start link, and the
 * two JSON polls; the upload pages come next.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { readAutoToken } from './auto-token.ts';
import { importedUploads, openRequest, pendingSources } from './requests.repository.ts';

interface Deps {
  pool: Pool;
  config: Config;
}

/** The identifier of `<identifier>.json` (the original's greedy `(.+).json`), or undefined. */
function identifierOf(name: string): string | undefined {
  const match = /^(.+)\.json$/s.exec(name);
  return match && match[1].length <= 256 ? match[1] : undefined;
}

/** JSON indented by 2 as the original's `json.dumps(…, indent=2)`, `application/json` without a charset (a Buffer: Fastify adds one to strings). */
const pretty = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));

export function registerExternalRoutes(app: FastifyInstance, { pool, config }: Deps): void {
  const noReferrer = { 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

  app.get('/data/external/start', async (request, reply) => {
    const auto = (request.query as Record<string, unknown>).auto;
    const key = config.externalContentKey;
    const opened = typeof auto === 'string' && key ? readAutoToken(auto, key) : undefined;
    if (!opened) {
      return reply.code(400).headers(noReferrer).type('text/html; charset=utf-8')
        .send('<!doctype html><title>Donation link</title><p>This page opens from the link in your study\'s task list. Please use that link.</p>');
    }
    await openRequest(pool, opened, config.donationSources);
    return reply.headers(noReferrer).type('text/html; charset=utf-8')
      .send('<!doctype html><title>Donate your data</title><p>Your donation request is open.</p>');
  });

  app.get('/data/external/uploads/*', async (request, reply) => {
    const identifier = identifierOf((request.params as { '*': string })['*']);
    const uploads = identifier ? await importedUploads(pool, identifier) : [];
    return reply.header('content-type', 'application/json').send(pretty(uploads));
  });

  app.get('/data/external/pending/*', async (request, reply) => {
    const identifier = identifierOf((request.params as { '*': string })['*']);
    return reply.header('content-type', 'application/json').send(pretty(identifier ? await pendingSources(pool, identifier) : []));
  });
}
