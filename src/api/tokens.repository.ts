/** The table api_tokens (migration 0014): service tokens, staff tokens, their use. */
import type { Pool, PoolClient } from '../db/database.ts';
import { generateToken, hashToken, TOKEN_PREFIX_LENGTH, type TokenScope } from './api-tokens.ts';

type Db = Pool | PoolClient;

export interface ApiToken {
  id: number;
  kind: 'service' | 'staff';
  name: string;
  scope: TokenScope;
  tokenPrefix: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** A token as a request presents it, once it is known to be live. */
export interface TokenHolder {
  id: number;
  kind: 'service' | 'staff';
  name: string;
  scope: TokenScope;
  lastUsedAt: Date | null;
}

/** Staff tokens a user may hold at once: request-token.json issues a new one each call. */
export const MAX_STAFF_TOKENS_PER_USER = 20;

const COLUMNS = 'id, kind, name, scope, token_prefix, created_by, created_at, expires_at, revoked_at, last_used_at';

function toToken(row: Record<string, unknown>): ApiToken {
  return {
    id: Number(row.id),
    kind: row.kind as ApiToken['kind'],
    name: row.name as string,
    scope: row.scope as TokenScope,
    tokenPrefix: row.token_prefix as string,
    createdBy: row.created_by as string,
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date | null,
    revokedAt: row.revoked_at as Date | null,
    lastUsedAt: row.last_used_at as Date | null,
  };
}

export type CreatedToken = { token: string; row: ApiToken } | { exists: ApiToken };

/**
 * A new service token. A live token of the same name is kept and reported (`exists`) unless it
 * has expired, in which case it is revoked first, so the name can be reused.
 */
export async function createServiceToken(db: Db, input: { name: string; scope: TokenScope; expiresDays: number | null; createdBy: string }): Promise<CreatedToken> {
  await db.query(`UPDATE api_tokens SET revoked_at = now() WHERE kind = 'service' AND name = $1 AND revoked_at IS NULL AND expires_at <= now()`, [input.name]);
  const token = generateToken();
  const { rows } = await db.query(
    `INSERT INTO api_tokens (kind, name, scope, token_hash, token_prefix, created_by, expires_at)
     VALUES ('service', $1, $2, $3, $4, $5, now() + make_interval(days => $6))
     ON CONFLICT (name) WHERE kind = 'service' AND revoked_at IS NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [input.name, input.scope, hashToken(token), token.slice(0, TOKEN_PREFIX_LENGTH), input.createdBy, input.expiresDays],
  );
  if (rows[0]) return { token, row: toToken(rows[0]) };
  const existing = await db.query(`SELECT ${COLUMNS} FROM api_tokens WHERE kind = 'service' AND name = $1 AND revoked_at IS NULL`, [input.name]);
  return { exists: toToken(existing.rows[0]) };
}

/**
 * A new short-lived token for a staff member (request-token.json). The original handed back the
 * user's newest token; only hashes are kept here, so each call issues a new one. The user's
 * expired tokens are deleted and only the newest MAX_STAFF_TOKENS_PER_USER stay live.
 */
export async function issueStaffToken(db: Db, user: { id: number; username: string }, lifetimeSeconds: number): Promise<{ token: string; expiresAt: Date }> {
  const token = generateToken();
  const { rows } = await db.query(
    `WITH expired AS (DELETE FROM api_tokens WHERE kind = 'staff' AND user_id = $1 AND expires_at <= now()),
     older AS (UPDATE api_tokens SET revoked_at = now()
               WHERE id IN (SELECT id FROM api_tokens WHERE kind = 'staff' AND user_id = $1 AND revoked_at IS NULL AND expires_at > now()
                            ORDER BY created_at DESC, id DESC OFFSET $6))
     INSERT INTO api_tokens (kind, name, scope, token_hash, token_prefix, user_id, created_by, expires_at)
     VALUES ('staff', $2, 'read-write', $3, $4, $1, $2, now() + make_interval(secs => $5))
     RETURNING expires_at`,
    [user.id, user.username, hashToken(token), token.slice(0, TOKEN_PREFIX_LENGTH), lifetimeSeconds, MAX_STAFF_TOKENS_PER_USER - 1],
  );
  return { token, expiresAt: rows[0].expires_at };
}

export type TokenLookup = { holder: TokenHolder } | { refused: 'unknown' | 'expired' | 'revoked' };

export async function findToken(db: Db, token: string): Promise<TokenLookup> {
  const { rows } = await db.query(
    `SELECT id, kind, name, scope, last_used_at, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired
     FROM api_tokens WHERE token_hash = $1`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row) return { refused: 'unknown' };
  if (row.revoked) return { refused: 'revoked' };
  if (row.expired) return { refused: 'expired' };
  return { holder: { id: Number(row.id), kind: row.kind, name: row.name, scope: row.scope, lastUsedAt: row.last_used_at } };
}

/** Records a use; callers skip it when the last one is recent (one write per token per minute). */
export async function touchToken(db: Db, id: number): Promise<void> {
  await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [id]);
}

/** Service tokens, live first; staff tokens only while live (they come and go by themselves). */
export async function listTokens(db: Db): Promise<ApiToken[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM api_tokens
     WHERE kind = 'service' OR (revoked_at IS NULL AND expires_at > now())
     ORDER BY (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) DESC, kind, lower(name), created_at DESC`,
  );
  return rows.map(toToken);
}

/** Revokes the live service token of that name; false when there is none. */
export async function revokeServiceToken(db: Db, name: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE api_tokens SET revoked_at = now() WHERE kind = 'service' AND name = $1 AND revoked_at IS NULL`, [name]);
  return (rowCount ?? 0) > 0;
}

/** Revokes one token by id (the dashboard's button; staff tokens too). */
export async function revokeTokenById(db: Db, id: number): Promise<ApiToken | undefined> {
  const { rows } = await db.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [id]);
  return rows[0] ? toToken(rows[0]) : undefined;
}
