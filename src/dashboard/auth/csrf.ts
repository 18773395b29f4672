/**
 * CSRF protection for every dashboard form: the session's synchronizer token, sent back as the
 * form field `_csrf`, the header `X-CSRF-Token`, or the query parameter `_csrf` on a route that
 * declares `config: { csrfInQuery: true }` (the multipart source-list upload, whose fields are read
 * only by its handler; anywhere else a token in a URL would only end up in logs). SameSite=Lax
 * cookies already stop most cross-site posts; the token also covers old browsers and same-site
 * attackers.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../html.ts';

/** The hidden field every dashboard form must include. */
export function csrfField(request: FastifyRequest): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${request.session?.csrfToken ?? ''}">`;
}

function sentToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body._csrf === 'string') return body._csrf;
  if (!request.routeOptions.config?.csrfInQuery) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query._csrf === 'string') return query._csrf;
  return undefined;
}

export function hasValidCsrfToken(request: FastifyRequest): boolean {
  const expected = request.session?.csrfToken;
  const sent = sentToken(request);
  if (!expected || !sent) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
