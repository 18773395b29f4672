/**
 * The staff dashboard under /data/: one encapsulated Fastify plugin, so its form parsing, login
 * and CSRF hooks apply to its own routes only, never to the upload endpoints beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { registerAuth } from './auth/auth.plugin.ts';
import type { DashboardDeps, FormFields } from './dashboard-deps.ts';
import { registerPages } from './pages/pages.routes.ts';

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const STATIC_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

function parseForm(body: Buffer): FormFields {
  const fields: FormFields = {};
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const previous = fields[name];
    fields[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return fields;
}

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(async (scope) => {
    // The app hands every body over as raw bytes (uploads are stored as received); dashboard
    // forms are parsed here. Multipart bodies (file uploads) stay raw for their handler.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, parseForm(body as Buffer));
    });
    await registerAuth(scope, deps);

    const assets = new Map(fs.readdirSync(STATIC_DIR).map((file) => [file, fs.readFileSync(path.join(STATIC_DIR, file))]));
    scope.get('/static/:file', { config: { public: true } }, async (request, reply) => {
      const file = (request.params as { file: string }).file;
      const content = assets.get(file);
      if (!content) return reply.code(404).type('text/plain').send('Not found');
      return reply.type(STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream').header('cache-control', 'public, max-age=3600').send(content);
    });

    registerPages(scope, deps);
  }, { prefix: '/data' });
}
