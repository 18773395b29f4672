/**
 * POST /data/api/request-token.json: a staff member's user name and password for a short-lived
 * API token (API_TOKEN_HOURS), as the Python client asks when it is given credentials. Under the
 * dashboard's login limits, and 401 JSON for wrong credentials (the original answered 405 and had
 * no limit, §4.1.9). Each call issues a new token: only hashes are kept, so the original's "hand
 * back the newest token" is not possible, and not needed (the client keeps what it gets).
 */
import type { FastifyInstance } from 'fastify';
import { createLoginGate } from '../dashboard/auth/login-gate.ts';
import { checkStaffLogin } from '../dashboard/auth/staff-login.ts';
import { DcsError } from '../errors.ts';
import { readFields } from './api-request.ts';
import type { ApiDeps, PostRoute } from './api-deps.ts';
import { sendJson } from './api-reply.ts';
import { issueStaffToken } from './tokens.repository.ts';

/** Python's isoformat() of an aware UTC time: microseconds, and "+00:00" rather than "Z". */
export function pythonIsoFormat(date: Date): string {
  const iso = date.toISOString();
  const millis = date.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${millis === 0 ? '' : `.${String(millis).padStart(3, '0')}000`}+00:00`;
}

export function registerRequestTokenRoute(app: FastifyInstance, deps: ApiDeps, post: PostRoute): void {
  const { pool, config, log } = deps;
  const gate = createLoginGate();
  post('/data/api/request-token.json', async (request, reply) => {
    const fields = readFields(request);
    const username = typeof fields.username === 'string' ? fields.username.trim() : '';
    const password = typeof fields.password === 'string' ? fields.password : '';
    if (!username || !password) throw new DcsError('DCS_ERR_API_QUERY', 'request-token.json takes the form fields "username" and "password".');
    const outcome = await checkStaffLogin(pool, gate, username, password, request.ip);
    if ('refused' in outcome) {
      switch (outcome.refused) {
        case 'locked':
          reply.header('retry-after', String(outcome.minutes * 60));
          throw new DcsError('DCS_ERR_LOGIN_LOCKED', `Too many failed logins; try again in ${outcome.minutes} minute${outcome.minutes === 1 ? '' : 's'}.`);
        case 'busy':
        case 'overloaded':
          reply.header('retry-after', '5');
          throw new DcsError('DCS_ERR_BUSY');
        default:
          throw new DcsError('DCS_ERR_LOGIN_FAILED');
      }
    }
    const { token, expiresAt } = await issueStaffToken(pool, outcome.user, config.apiTokenSeconds);
    log.info({ api: 'request-token', user: outcome.user.username }, 'API token issued');
    return sendJson(reply, { token, expires: pythonIsoFormat(expiresAt) });
  });
}
