/**
 * Login sessions (table staff_sessions). The cookie carries a random 256-bit token; the table
 * keeps only its SHA-256, so reading the database does not give anyone a session. Each session
 * has its own CSRF token, which every form of the dashboard sends back. A session ends after
 * `idleHours` without use, and `maxHours` after the login however much it is used.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from '../../db/database.ts';
import type { StaffUser } from './users.repository.ts';

export interface SessionLifetime {
  /** SESSION_HOURS: the session ends this long after its last use */
  idleHours: number;
  /** SESSION_MAX_HOURS: and this long after the login at the latest */
  maxHours: number;
}

export interface Session {
  user: StaffUser;
  csrfToken: string;
  tokenHash: Buffer;
  lastSeenAt: Date;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Opens a session; returns the token for the cookie. Also clears the user's expired sessions. */
export async function insertSession(pool: Pool, userId: number, lifetime: SessionLifetime, client: { address: string; userAgent: string | undefined }): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  await pool.query(
    `WITH expired AS (DELETE FROM staff_sessions WHERE user_id = $1 AND expires_at < now()),
          login AS (UPDATE staff_users SET last_login_at = now() WHERE id = $1)
     INSERT INTO staff_sessions (token_hash, user_id, csrf_token, expires_at, address, user_agent)
     VALUES ($2, $1, $3, now() + make_interval(hours => least($4::int, $7::int)), $5, $6)`,
    [userId, hashToken(token), csrfToken, lifetime.idleHours, client.address, client.userAgent?.slice(0, 512) ?? null, lifetime.maxHours],
  );
  return token;
}

/** The live session of `token`, or undefined (unknown, idle too long, or older than `maxHours`). */
export async function findSession(pool: Pool, token: string, maxHours: number): Promise<Session | undefined> {
  const { rows } = await pool.query(
    `SELECT s.token_hash, s.csrf_token, s.last_seen_at, u.id, u.username, u.is_admin, u.created_at, u.last_login_at
     FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
     WHERE s.token_hash = $1 AND s.expires_at > now() AND s.created_at > now() - make_interval(hours => $2)`,
    [hashToken(token), maxHours],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    user: { id: row.id, username: row.username, isAdmin: row.is_admin, createdAt: row.created_at, lastLoginAt: row.last_login_at },
    csrfToken: row.csrf_token,
    tokenHash: row.token_hash,
    lastSeenAt: row.last_seen_at,
  };
}

/** Slides the session's expiry forward by `idleHours`, never past `maxHours` after the login. */
export async function touchSession(pool: Pool, tokenHash: Buffer, lifetime: SessionLifetime): Promise<void> {
  await pool.query(
    `UPDATE staff_sessions SET last_seen_at = now(),
       expires_at = least(now() + make_interval(hours => $2), created_at + make_interval(hours => $3))
     WHERE token_hash = $1`,
    [tokenHash, lifetime.idleHours, lifetime.maxHours],
  );
}

export async function deleteSession(pool: Pool, token: string): Promise<void> {
  await pool.query('DELETE FROM staff_sessions WHERE token_hash = $1', [hashToken(token)]);
}
