/**
 * Login rate limits, kept in PostgreSQL so they hold across every web process: after
 * MAX_FAILURES_PER_ACCOUNT failed logins for one user name, or MAX_FAILURES_PER_ADDRESS from one
 * address, within WINDOW_MINUTES, further attempts get 429 until the window has passed, even
 * with the right password (so guessing cannot go on in the background).
 */
import type { Pool } from '../../db/database.ts';

export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const WINDOW_MINUTES = 15;

/** Minutes until attempts are allowed again, or 0 if they are allowed now. */
export async function minutesLocked(pool: Pool, username: string, address: string): Promise<number> {
  const { rows } = await pool.query(
    `WITH recent AS (SELECT username, address, at FROM login_failures WHERE at > now() - make_interval(mins => $3)
                     AND (username = $1 OR address = $2))
     SELECT
       (SELECT count(*) FROM recent WHERE username = $1)::int AS by_account,
       (SELECT count(*) FROM recent WHERE address = $2)::int AS by_address,
       (SELECT extract(epoch FROM min(at) + make_interval(mins => $3) - now()) FROM recent) AS seconds_left`,
    [username, address, WINDOW_MINUTES],
  );
  const { by_account, by_address, seconds_left } = rows[0];
  if (by_account < MAX_FAILURES_PER_ACCOUNT && by_address < MAX_FAILURES_PER_ADDRESS) return 0;
  return Math.max(1, Math.ceil(Number(seconds_left ?? 60) / 60));
}

export async function recordLoginFailure(pool: Pool, username: string, address: string): Promise<void> {
  await pool.query(
    `WITH old AS (DELETE FROM login_failures WHERE at < now() - make_interval(mins => $3))
     INSERT INTO login_failures (username, address) VALUES ($1, $2)`,
    [username.slice(0, 256), address, WINDOW_MINUTES],
  );
}

/** A successful login forgets the account's failures (not the address's). */
export async function clearLoginFailures(pool: Pool, username: string): Promise<void> {
  await pool.query('DELETE FROM login_failures WHERE username = $1', [username]);
}
