/**
 * Login rate limits, kept in PostgreSQL so they hold across every web process: after
 * MAX_FAILURES_PER_ACCOUNT failed logins for one user name, or MAX_FAILURES_PER_ADDRESS from one
 * address, within WINDOW_MINUTES, further attempts get 429 until the window has passed, even
 * with the right password (so guessing cannot go on in the background).
 *
 * An attempt is counted before its password is checked: `reserveLoginAttempt` checks the limits
 * and records the attempt as a failure in one transaction, holding advisory locks on the user name
 * and the address, so of parallel attempts only as many as the limit allows get a password check.
 * The locks are tried, not waited for: an attempt that finds one taken (another attempt for that
 * name or address is being counted right now) is turned away uncounted, so a flood of parallel
 * logins never holds database connections waiting. A successful login then clears the account's
 * failures, its reservation included.
 */
import { LOCKS, tryLockTransaction } from '../../db/advisory-lock.ts';
import type { Pool } from '../../db/database.ts';
import type { Transaction } from '../../db/transaction.ts';

export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const WINDOW_MINUTES = 15;

export type LoginReservation = { reserved: string } | { minutesLocked: number } | { busy: true };

/**
 * Within a transaction: the attempt's reservation (a login_failures row, its id), the minutes
 * until attempts are allowed again, or busy (another attempt for this name or address is being
 * counted). The locks are held until the transaction ends.
 */
export async function reserveLoginAttempt(client: Transaction, username: string, address: string): Promise<LoginReservation> {
  if (!(await tryLockTransaction(client, LOCKS.loginAccount(username), LOCKS.loginAddress(address)))) return { busy: true };
  const { rows } = await client.query(
    `WITH recent AS (SELECT username, address, at FROM login_failures WHERE at > now() - make_interval(mins => $3)
                     AND (username = $1 OR address = $2))
     SELECT
       (SELECT count(*) FROM recent WHERE username = $1)::int AS by_account,
       (SELECT count(*) FROM recent WHERE address = $2)::int AS by_address,
       (SELECT extract(epoch FROM min(at) + make_interval(mins => $3) - now()) FROM recent) AS seconds_left`,
    [username, address, WINDOW_MINUTES],
  );
  const { by_account, by_address, seconds_left } = rows[0];
  if (by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS) {
    return { minutesLocked: Math.max(1, Math.ceil(Number(seconds_left ?? 60) / 60)) };
  }
  const inserted = await client.query(
    `WITH old AS (DELETE FROM login_failures WHERE at < now() - make_interval(mins => $3))
     INSERT INTO login_failures (username, address) VALUES ($1, $2) RETURNING id`,
    [username, address, WINDOW_MINUTES],
  );
  return { reserved: String(inserted.rows[0].id) };
}

/** Gives a reservation back: the attempt was not made (the server was too busy to check it). */
export async function releaseLoginAttempt(pool: Pool, reservation: string): Promise<void> {
  await pool.query('DELETE FROM login_failures WHERE id = $1', [reservation]);
}

/** A successful login forgets the account's failures (not the address's other ones). */
export async function clearLoginFailures(pool: Pool, username: string): Promise<void> {
  await pool.query('DELETE FROM login_failures WHERE username = $1', [username]);
}
