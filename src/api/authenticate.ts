/** The token check of every query call: a live token, recorded as used, with the scope the call needs. */
import type { FastifyRequest } from 'fastify';
import type { Pool } from '../db/database.ts';
import { DcsError } from '../errors.ts';
import { readToken, type ApiFields } from './api-request.ts';
import { findToken, touchToken, type TokenHolder } from './tokens.repository.ts';
import type { TokenScope } from './api-tokens.ts';

/** A token's last use is written at most this often (the enrollment server calls every few seconds). */
const TOUCH_AFTER_MS = 60_000;

const REFUSALS = {
  missing: 'This API call needs a token: the form field "token" or an Authorization: Bearer header.',
  unknown: 'Unknown API token.',
  expired: 'This API token has expired; ask an administrator for a new one (dcs tokens create).',
  revoked: 'This API token has been revoked.',
} as const;

export async function authenticate(pool: Pool, request: FastifyRequest, fields: ApiFields, needs: TokenScope): Promise<TokenHolder> {
  const token = readToken(request, fields);
  if (!token) throw new DcsError('DCS_ERR_API_TOKEN', REFUSALS.missing);
  const found = await findToken(pool, token);
  if ('refused' in found) throw new DcsError('DCS_ERR_API_TOKEN', REFUSALS[found.refused]);
  const holder = found.holder;
  if (needs === 'read-write' && holder.scope !== 'read-write') throw new DcsError('DCS_ERR_API_SCOPE');
  if (!holder.lastUsedAt || Date.now() - holder.lastUsedAt.getTime() > TOUCH_AFTER_MS) await touchToken(pool, holder.id);
  return holder;
}
