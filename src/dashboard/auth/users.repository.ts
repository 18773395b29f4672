/** Staff accounts (table staff_users). */
import type { QueryResultRow } from 'pg';
import type { Pool } from '../../db/database.ts';
import { hashPassword } from './passwords.ts';

/** User names: 1 to 150 letters, digits or . @ + - _ (`dcs users create` checks). */
export const MAX_USERNAME_LENGTH = 150;
export const USERNAME_PATTERN = /^[\w.@+-]{1,150}$/;

export interface StaffUser {
  id: number;
  username: string;
  isAdmin: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

function rowToStaffUser(row: QueryResultRow): StaffUser {
  return { id: row.id, username: row.username, isAdmin: row.is_admin, createdAt: row.created_at, lastLoginAt: row.last_login_at };
}

/** Creates a user; throws if the name is taken. */
export async function insertUser(pool: Pool, user: { username: string; password: string; isAdmin: boolean }): Promise<StaffUser> {
  const passwordHash = await hashPassword(user.password);
  const { rows } = await pool.query(
    'INSERT INTO staff_users (username, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING *',
    [user.username, passwordHash, user.isAdmin],
  );
  return rowToStaffUser(rows[0]);
}

/** The user and their password hash, for logging in. */
export async function findUserForLogin(pool: Pool, username: string): Promise<(StaffUser & { passwordHash: string }) | undefined> {
  const { rows } = await pool.query('SELECT * FROM staff_users WHERE username = $1', [username]);
  return rows[0] ? { ...rowToStaffUser(rows[0]), passwordHash: rows[0].password_hash } : undefined;
}

export async function listUsers(pool: Pool): Promise<StaffUser[]> {
  const { rows } = await pool.query('SELECT * FROM staff_users ORDER BY username');
  return rows.map(rowToStaffUser);
}

export async function countUsers(pool: Pool): Promise<number> {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM staff_users');
  return rows[0].n;
}

/** Sets a new password and ends the user's sessions. Returns false if there is no such user. */
export async function setPassword(pool: Pool, username: string, password: string): Promise<boolean> {
  const passwordHash = await hashPassword(password);
  const { rows } = await pool.query(
    `WITH u AS (UPDATE staff_users SET password_hash = $2 WHERE username = $1 RETURNING id),
          s AS (DELETE FROM staff_sessions WHERE user_id IN (SELECT id FROM u))
     SELECT id FROM u`,
    [username, passwordHash],
  );
  return rows.length > 0;
}

/** Removes a user (and, by cascade, their sessions). Returns false if there is no such user. */
export async function deleteUser(pool: Pool, username: string): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM staff_users WHERE username = $1', [username]);
  return (rowCount ?? 0) > 0;
}
