/**
 * The staff dashboard under /data/: one encapsulated Fastify plugin, so its form parsing, login
 * and CSRF hooks, security headers, body limits and error pages apply to its own routes only,
 * never to the upload endpoints beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance } from 'fastify';
import { classifyError, DcsError, ERRORS } from '../errors.ts';
import { registerAuth } from './auth/auth.plugin.ts';
import type { DashboardDeps, FormFields } from './dashboard-deps.ts';
import { sendErrorPage, wantsHtml } from './error-page.ts';
import { registerPages } from './pages/pages.routes.ts';

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const STATIC_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

/**
 * On every dashboard reply (pages, redirects, errors, the login page, the stylesheet): no script
 * and no inline style may run (the pages have none), nothing may frame the pages, forms post only
 * here, and no dashboard URL leaks to other sites in a Referer.
 */
export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
} as const;

/** Largest body of a dashboard form (the login form included); larger is refused at once with 413. */
export const FORM_BODY_LIMIT = 16 * 1024;

const NUL_REFUSED = 'A form field or query parameter contains a NUL character (%00), which no name, identifier or search can hold.';

export function parseForm(body: Buffer): FormFields {
  // No prototype: a field named __proto__ or constructor is a field like any other.
  const fields: FormFields = Object.create(null);
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const previous = fields[name];
    fields[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return fields;
}

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    // Every route takes small bodies unless it says otherwise (the source-list and export forms).
    scope.addHook('onRoute', (route) => {
      route.bodyLimit ??= FORM_BODY_LIMIT;
    });
    // The app hands every body over as raw bytes (uploads are stored as received); dashboard
    // forms are parsed here. Multipart bodies (file uploads) stay raw for their handler.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => {
      const form = parseForm(body as Buffer);
      if (Object.values(form).flat().some((value) => value.includes('\0'))) done(new DcsError('DCS_ERR_BAD_REQUEST', NUL_REFUSED), undefined);
      else done(null, form);
    });
    // A NUL in the query string would reach PostgreSQL, whose text cannot hold one (a 500).
    scope.addHook('onRequest', async (request) => {
      if (/%00/.test(request.url)) throw new DcsError('DCS_ERR_BAD_REQUEST', NUL_REFUSED);
    });
    // Browsers get an error page; upload clients, `.json` routes and API callers the app's JSON.
    scope.setErrorHandler((error: FastifyError | DcsError | Error, request, reply) => {
      const described = classifyError(error);
      const tooLarge = described.code === 'DCS_ERR_BODY_TOO_LARGE' && !(error instanceof DcsError)
        ? new DcsError('DCS_ERR_BODY_TOO_LARGE', `Larger than this form's limit of ${request.routeOptions.bodyLimit ?? FORM_BODY_LIMIT} bytes.`)
        : undefined;
      if (!wantsHtml(request)) throw tooLarge ?? error;
      if (described.log) request.log.error({ err: error }, described.log);
      const message = tooLarge?.message ?? (error instanceof DcsError ? error.message : ERRORS[described.code].message);
      return sendErrorPage(request, reply, described.code, message);
    });
    await registerAuth(scope, deps);
    // Unknown paths under /data/ are answered from onRequest (after the session is read, for the
    // navigation): a body sent to them is never read. The handler is what scopes them here.
    scope.setNotFoundHandler(() => {
      throw new DcsError('DCS_ERR_NOT_FOUND');
    });
    scope.addHook('onRequest', async (request, reply) => {
      if (!request.is404) return;
      if (wantsHtml(request)) return sendErrorPage(request, reply, 'DCS_ERR_NOT_FOUND', 'There is no page at this address.');
      throw new DcsError('DCS_ERR_NOT_FOUND', `Nothing at ${request.method} ${request.url}.`);
    });

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
