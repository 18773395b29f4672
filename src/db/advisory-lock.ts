/**
 * PostgreSQL advisory locks, with one key scheme (docs/architecture.md, "The db/ toolkit").
 *
 * Key scheme: a lock is named, `advisoryLock('jobs', 'harvest')`, and its key is the first 8
 * bytes of SHA-256("dcs:jobs:harvest") read as a signed 64-bit integer, the single-key form of
 * PostgreSQL's lock functions. The same name gives the same key in every process and version;
 * distinct names collide with odds of 2^-64. Every lock of the server is named in LOCKS below or
 * built here from a name and a part, so no two features can pick the same number by hand.
 *
 * Session locks (`tryLockSession`, `lockSession`, `unlockSession`, `holdingSessionLock`) last
 * until unlocked or the connection closes: for work longer than a transaction (a job run, the
 * migrations) on a connection of its own, which a transaction-mode PgBouncer cannot give.
 * Transaction locks (`tryLockTransaction`) end with the transaction: for web processes.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Transaction } from './transaction.ts';

export interface AdvisoryLock {
  /** "dcs:<name>[:<part>]": what pg_locks' objid pair stands for, for a reader of logs */
  readonly name: string;
  /** the 64-bit key, as text (a JS number cannot hold it) */
  readonly key: string;
}

export function advisoryLock(name: string, part?: string): AdvisoryLock {
  const full = part === undefined ? `dcs:${name}` : `dcs:${name}:${part}`;
  return { name: full, key: createHash('sha256').update(full).digest().readBigInt64BE(0).toString() };
}

/** The locks with fixed names; locks per thing (a job, an origin, a spool) add the thing as their part. */
export const LOCKS = {
  migrations: advisoryLock('migrations'),
  pointDigests: advisoryLock('point-digests'),
  jobScheduleSetup: advisoryLock('job-schedule-setup'),
  job: (jobName: string) => advisoryLock('job', jobName),
  pdkImport: (origin: string) => advisoryLock('pdk-import', origin),
  spoolDrain: (hostAndDir: string) => advisoryLock('spool-drain', hostAndDir),
  loginAccount: (username: string) => advisoryLock('login-account', username),
  loginAddress: (address: string) => advisoryLock('login-address', address),
} as const;

type Client = pg.PoolClient | pg.Client;

/** Takes the session lock if free; true when taken. */
export async function tryLockSession(client: Client, lock: AdvisoryLock): Promise<boolean> {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1::int8) AS locked', [lock.key]);
  return rows[0].locked;
}

/** Waits for the session lock (bounded only by the connection's lock_timeout). */
export async function lockSession(client: Client, lock: AdvisoryLock): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1::int8)', [lock.key]);
}

export async function unlockSession(client: Client, lock: AdvisoryLock): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::int8)', [lock.key]);
}

/**
 * Takes every lock given, if all are free, until the transaction ends; true when all were taken.
 * Never waits: a web request that finds one taken can answer at once.
 */
export async function tryLockTransaction(tx: Transaction, ...locks: AdvisoryLock[]): Promise<boolean> {
  const { rows } = await tx.query('SELECT bool_and(pg_try_advisory_xact_lock(key)) AS locked FROM unnest($1::int8[]) AS key', [locks.map((l) => l.key)]);
  return rows[0].locked === true;
}

/**
 * Runs `work` on a connection of its own while holding the session lock: `{ locked: false }` at
 * once when another connection holds it (or, with `wait`, after waiting for it). The lock is
 * released and the connection returned on every path; a connection that failed to unlock is
 * closed instead (which also releases the lock).
 */
export async function holdingSessionLock<T>(pool: pg.Pool, lock: AdvisoryLock, work: (client: pg.PoolClient) => Promise<T>, options: { wait?: boolean } = {}): Promise<{ locked: false } | { locked: true; value: T }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    try {
      if (options.wait) await lockSession(client, lock);
      else if (!(await tryLockSession(client, lock))) return { locked: false };
    } catch (error) {
      broken = error as Error;
      throw error;
    }
    try {
      return { locked: true, value: await work(client) };
    } finally {
      await unlockSession(client, lock).catch((error: Error) => (broken = error));
    }
  } finally {
    client.release(broken);
  }
}
