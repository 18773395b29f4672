/** The advisory-lock helpers: the key scheme, exclusion between two connections, a transaction lock ending with its transaction. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryLock, holdingSessionLock, LOCKS, tryLockSession, tryLockTransaction, unlockSession } from '../../src/db/advisory-lock.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('advisory locks', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  const heldBySomeone = async (key: string) => (await db.pool.query(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
       AND ((classid::int8 << 32) | objid::int8) = $1::int8`, [key])).rows[0].n > 0;

  it('derives the key from "dcs:<name>[:<part>]", stable and distinct', () => {
    const expected = createHash('sha256').update('dcs:job:harvest').digest().readBigInt64BE(0).toString();
    expect(advisoryLock('job', 'harvest')).toEqual({ name: 'dcs:job:harvest', key: expected });
    const keys = [LOCKS.migrations, LOCKS.pointDigests, LOCKS.jobScheduleSetup, LOCKS.job('a'), LOCKS.job('b'), LOCKS.pdkImport('a'), LOCKS.spoolDrain('a'), LOCKS.loginAccount('a'), LOCKS.loginAddress('a')].map((l) => l.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('a session lock excludes a second connection until unlocked', async () => {
    const lock = advisoryLock('test', 'exclusion');
    const [a, b] = [await db.pool.connect(), await db.pool.connect()];
    try {
      expect(await tryLockSession(a, lock)).toBe(true);
      expect(await tryLockSession(b, lock)).toBe(false);
      expect(await heldBySomeone(lock.key)).toBe(true);
      await unlockSession(a, lock);
      expect(await tryLockSession(b, lock)).toBe(true);
      await unlockSession(b, lock);
    } finally {
      a.release();
      b.release();
    }
  });

  it('holdingSessionLock runs the work under the lock, refuses a second holder, and unlocks on every path', async () => {
    const lock = advisoryLock('test', 'holding');
    const outcome = await holdingSessionLock(db.pool, lock, async () => {
      expect(await heldBySomeone(lock.key)).toBe(true);
      return holdingSessionLock(db.pool, lock, async () => 'second');
    });
    expect(outcome).toEqual({ locked: true, value: { locked: false } });
    expect(await heldBySomeone(lock.key)).toBe(false);
    await expect(holdingSessionLock(db.pool, lock, async () => {
      throw new Error('work failed');
    })).rejects.toThrow('work failed');
    expect(await heldBySomeone(lock.key)).toBe(false);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
  });

  it('a transaction lock excludes others while the transaction runs and is released at commit', async () => {
    const [first, second] = [advisoryLock('test', 'xact-1'), advisoryLock('test', 'xact-2')];
    await withTransaction(db.pool, async (tx) => {
      expect(await tryLockTransaction(tx, first, second)).toBe(true);
      const other = await withTransaction(db.pool, (other) => tryLockTransaction(other, second));
      expect(other).toBe(false);
    });
    expect(await heldBySomeone(first.key)).toBe(false);
    expect(await heldBySomeone(second.key)).toBe(false);
    expect(await withTransaction(db.pool, (tx) => tryLockTransaction(tx, first, second))).toBe(true);
  });

  it('a transaction lock is released at rollback too', async () => {
    const lock = advisoryLock('test', 'xact-rollback');
    await expect(withTransaction(db.pool, async (tx) => {
      expect(await tryLockTransaction(tx, lock)).toBe(true);
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await heldBySomeone(lock.key)).toBe(false);
  });
});
