/**
 * GET /data/api/openapi.json: the API's OpenAPI document (openapi.ts), open to anyone: it describes
 * the calls and their fields, never any data. Built once per process.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { buildOpenApiDocument } from './openapi.ts';

export function registerOpenApiRoute(app: FastifyInstance, deps: { config: Config }): void {
  const document = Buffer.from(JSON.stringify(buildOpenApiDocument(deps.config.publicUrl), null, 2));
  app.get('/data/api/openapi.json', async (_request, reply) => reply.code(200).header('content-type', 'application/json').send(document));
}
