/**
 * Checking a staff member's user name and password under the login limits: the dashboard's login
 * form and the API's request-token.json both go through here, so a password guessed through one
 * counts against the other too (login-limits.ts keeps the counts in PostgreSQL).
 */
import type { Pool } from '../../db/database.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { LoginGate } from './login-gate.ts';
import { clearLoginFailures, releaseLoginAttempt, reserveLoginAttempt } from './login-limits.ts';
import { MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import { findUserForLogin, MAX_USERNAME_LENGTH, type StaffUser } from './users.repository.ts';

// Verifying costs as much as hashing: unknown users are checked against this, so a wrong user
// name takes as long as a wrong password and does not reveal which accounts exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$JbhCuuWKmn639z+644GjGA$wV0AfnNPo5YiXVGNfSu/iw5StTabDyVjXvhLrSlNBu4';

export type StaffLoginOutcome =
  | { user: StaffUser }
  /** too-long: no account has such a name or password (not counted); wrong: counted as a failure */
  | { refused: 'too-long' | 'wrong' }
  /** another attempt for this name or address is being counted right now (not counted) */
  | { refused: 'busy' }
  /** too many password checks at once in this process (not counted) */
  | { refused: 'overloaded' }
  | { refused: 'locked'; minutes: number };

export async function checkStaffLogin(pool: Pool, gate: LoginGate, username: string, password: string, address: string): Promise<StaffLoginOutcome> {
  if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return { refused: 'too-long' };
  const reservation = await withTransaction(pool, (client) => reserveLoginAttempt(client, username, address));
  if ('busy' in reservation) return { refused: 'busy' };
  if ('minutesLocked' in reservation) return { refused: 'locked', minutes: reservation.minutesLocked };
  const user = username ? await findUserForLogin(pool, username) : undefined;
  const ok = await gate.run(() => verifyPassword(user?.passwordHash ?? DUMMY_HASH, password));
  if (ok === 'busy') {
    await releaseLoginAttempt(pool, reservation.reserved);
    return { refused: 'overloaded' };
  }
  // A failed attempt keeps its reservation: that row is the recorded failure.
  if (!user || !ok) return { refused: 'wrong' };
  await clearLoginFailures(pool, username);
  const { passwordHash: _hash, ...staff } = user;
  return { user: staff };
}
