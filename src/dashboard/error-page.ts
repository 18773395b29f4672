/**
 * Errors on dashboard pages, for browsers: a page in the dashboard's shell with what happened,
 * the error code and a way back, instead of the JSON that upload clients and API callers get.
 * Only messages the server wrote are shown (DcsError's); anything else shows the catalogue's
 * sentence, so a crafted URL cannot put its own text on the page.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.ts';
import { html } from '../html.ts';
import { renderPage } from './page-shell.ts';

/** A browser asking for a page (not a `.json` route, not an API caller). */
export function wantsHtml(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0];
  if (path.endsWith('.json') || path.startsWith('/data/api/')) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

/** The page the request came from, when it is a page of this dashboard (to go back to). */
function previousPage(request: FastifyRequest): string | undefined {
  const referer = request.headers.referer;
  if (!referer || !URL.canParse(referer)) return undefined;
  const url = new URL(referer);
  if (url.host !== request.headers.host || !url.pathname.startsWith('/data/') || url.pathname === request.url.split('?')[0]) return undefined;
  return url.pathname + url.search;
}

export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const status = ERRORS[code].status;
  const back = previousPage(request);
  const loggedIn = request.session !== undefined;
  const body = html`<section class="panel error-page"><h1>${STATUS_CODES[status] ?? 'Error'}</h1>
    <p class="notice error" role="alert">${message}</p>
    <p class="muted small">Error <code>${code}</code>, HTTP ${status}.</p>
    <p>${back ? html`<a href="${back}">Back to the previous page</a> · ` : ''}${loggedIn ? html`<a href="/data/">Sources</a>` : html`<a href="/data/login">Log in</a>`}</p></section>`;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(renderPage({ title: STATUS_CODES[status] ?? 'Error', username: request.session?.user.username, csrfToken: request.session?.csrfToken, body }));
}
