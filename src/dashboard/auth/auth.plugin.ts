/**
 * Staff authentication for everything under /data/ except the upload endpoints (which live
 * outside this plugin and never need a login): the session cookie is read on every request; a
 * request without a valid session is redirected to the login page, or answered 401 JSON when it
 * asks for JSON; every unsafe method must carry the session's CSRF token. Routes opt out with
 * `config: { public: true }` (the login page, the stylesheet).
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Pool } from '../../db/database.ts';
import { DcsError } from '../../errors.ts';
import { hasValidCsrfToken } from './csrf.ts';
import { createLoginGate } from './login-gate.ts';
import { renderLoginPage } from './login.page.ts';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';
import { deleteSession, findSession, insertSession, touchSession, type Session } from './sessions.repository.ts';
import { checkStaffLogin } from './staff-login.ts';
import { MAX_USERNAME_LENGTH } from './users.repository.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in staff member's session (dashboard routes only). */
    session?: Session;
  }
  interface FastifyContextConfig {
    /** true: reachable without logging in. */
    public?: boolean;
    /** true: the CSRF token may come as the query parameter `_csrf` (multipart forms only). */
    csrfInQuery?: boolean;
  }
}

export const SESSION_COOKIE = 'dcs_session';
const TOUCH_AFTER_MS = 5 * 60_000;

/** Requests that want JSON get 401 JSON instead of a redirect to the login page. */
function wantsJson(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0];
  if (path.endsWith('.json') || path.startsWith('/data/api/')) return true;
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** Only a path of this dashboard is a safe place to return to after logging in. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/data\/(?!\/)/.test(next) ? next : '/data/';
}

export async function registerAuth(scope: FastifyInstance, deps: { pool: Pool; config: Config }): Promise<void> {
  const { pool, config } = deps;
  await scope.register(cookie);
  const cookieOptions = (request: FastifyRequest) => ({
    path: '/data',
    httpOnly: true,
    sameSite: 'lax' as const,
    // request.protocol honours X-Forwarded-Proto only with TRUST_PROXY (Fastify's trustProxy).
    secure: request.protocol === 'https',
  });

  const lifetime = { idleHours: config.sessionHours, maxHours: config.sessionMaxHours };
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await findSession(pool, token, lifetime.maxHours) : undefined;
    if (session) {
      request.session = session;
      if (Date.now() - session.lastSeenAt.getTime() > TOUCH_AFTER_MS) await touchSession(pool, session.tokenHash, lifetime);
    }
    // Unknown paths are answered 404 alike, logged in or not (dashboard.plugin.ts).
    if (request.routeOptions.config?.public || request.is404) return;
    if (!session) {
      if (wantsJson(request)) throw new DcsError('DCS_ERR_LOGIN_REQUIRED');
      return reply.redirect(`/data/login?next=${encodeURIComponent(request.url)}`, 302);
    }
  });
  // After body parsing: the token may be a form field.
  scope.addHook('preHandler', async (request: FastifyRequest) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method) || request.routeOptions.config?.public) return;
    if (!hasValidCsrfToken(request)) throw new DcsError('DCS_ERR_CSRF');
  });

  scope.get('/login', { config: { public: true } }, async (request, reply) => {
    if (request.session) return reply.redirect(safeNext((request.query as Record<string, string>).next), 302);
    return reply.type('text/html; charset=utf-8').send(renderLoginPage({ next: safeNext((request.query as Record<string, string>).next) }));
  });

  const gate = createLoginGate();
  scope.post('/login', { config: { public: true } }, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const next = safeNext(form.next);
    const page = (status: number, error: string) => reply.code(status).type('text/html; charset=utf-8')
      .send(renderLoginPage({ next, error, username: username.slice(0, MAX_USERNAME_LENGTH) }));
    // No account has a longer name or password: refused before any password check, not counted.
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      return page(400, `User names have at most ${MAX_USERNAME_LENGTH} characters and passwords at most ${MAX_PASSWORD_LENGTH}.`);
    }
    const outcome = await checkStaffLogin(pool, gate, username, password, request.ip);
    if ('user' in outcome) {
      const token = await insertSession(pool, outcome.user.id, lifetime, { address: request.ip, userAgent: request.headers['user-agent'] });
      // The browser keeps the cookie for the longest a session can last; the server ends it earlier when idle.
      reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions(request), maxAge: lifetime.maxHours * 3600 });
      return reply.redirect(next, 303);
    }
    switch (outcome.refused) {
      case 'busy': return page(429, 'Another login for this user name or from this address is being checked. Try again in a moment.');
      case 'locked': return page(429, `Too many failed logins. Try again in ${outcome.minutes} minute${outcome.minutes === 1 ? '' : 's'}.`);
      case 'overloaded':
        reply.header('retry-after', '5');
        return page(503, 'Too many logins at once. Try again in a few seconds.');
      default: return page(401, 'Unknown user name or wrong password.');
    }
  });

  scope.post('/logout', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await deleteSession(pool, token);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.redirect('/data/login', 303);
  });
}
