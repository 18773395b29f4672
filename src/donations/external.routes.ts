/**
 * The two PDK External Data polls of the enrollment server (ecosystem-api.md §2.8.2, §2.8.3),
 * outside the dashboard's login; the participant's pages are participant.routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/database.ts';
import { importedUploads, pendingSources } from './requests.repository.ts';

interface Deps {
  pool: Pool;
}

/** The identifier of `<identifier>.json` (the original's greedy `(.+).json`), or undefined. */
function identifierOf(name: string): string | undefined {
  const match = /^(.+)\.json$/s.exec(name);
  return match && match[1].length <= 256 ? match[1] : undefined;
}

/** JSON indented by 2 as the original's `json.dumps(…, indent=2)`, `application/json` without a charset (a Buffer: Fastify adds one to strings). */
const pretty = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));

export function registerExternalRoutes(app: FastifyInstance, { pool }: Deps): void {
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
