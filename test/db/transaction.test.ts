/** withTransaction, transactionOn and transactionStream: commit, rollback, release on every path, SET LOCAL scoped, isolation, statement timeout. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginStatement, transactionOn, transactionStream, withTransaction } from '../../src/db/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('withTransaction', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE tx_test (n int)');
  });
  afterAll(async () => db?.drop());

  const rows = async () => (await db.pool.query('SELECT n FROM tx_test ORDER BY n')).rows.map((r) => r.n);
  /** every client of the pool is back in it (none leaked by a path that forgot to release) */
  const allReleased = () => expect(db.pool.idleCount).toBe(db.pool.totalCount);

  it('commits what the work did and returns its result', async () => {
    await db.pool.query('TRUNCATE tx_test');
    const result = await withTransaction(db.pool, async (tx) => {
      await tx.query('INSERT INTO tx_test VALUES (1)');
      return 'done';
    });
    expect(result).toBe('done');
    expect(await rows()).toEqual([1]);
    allReleased();
  });

  it('rolls back when the work throws, passes the error on and releases the client', async () => {
    await db.pool.query('TRUNCATE tx_test');
    const failure = new Error('stop here');
    await expect(withTransaction(db.pool, async (tx) => {
      await tx.query('INSERT INTO tx_test VALUES (2)');
      throw failure;
    })).rejects.toBe(failure);
    expect(await rows()).toEqual([]);
    allReleased();
  });

  it('rolls back and releases when a statement fails', async () => {
    await db.pool.query('TRUNCATE tx_test');
    await expect(withTransaction(db.pool, async (tx) => {
      await tx.query('INSERT INTO tx_test VALUES (3)');
      await tx.query('SELECT 1/0');
    })).rejects.toMatchObject({ code: '22012' });
    expect(await rows()).toEqual([]);
    allReleased();
  });

  it('discards a client whose connection broke instead of handing it out again', async () => {
    const before = db.pool.totalCount;
    await expect(withTransaction(db.pool, async (tx) => {
      tx.on('error', () => undefined); // the termination, expected here
      await db.pool.query('SELECT pg_terminate_backend($1)', [(await tx.query('SELECT pg_backend_pid() AS pid')).rows[0].pid]);
      await tx.query('SELECT 1');
    })).rejects.toMatchObject({ connectionBroken: true });
    expect(db.pool.totalCount).toBeLessThan(before + 1);
    // the pool still works, with live connections only
    expect((await db.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    allReleased();
  });

  it('scopes settings to the transaction (SET LOCAL), after commit and after rollback', async () => {
    const client = await db.pool.connect();
    try {
      const inside = await transactionOn(client, async (tx) => (await tx.query('SHOW synchronous_commit')).rows[0].synchronous_commit, { settings: { synchronous_commit: 'off' } });
      expect(inside).toBe('off');
      expect((await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit).toBe('on');
      await expect(transactionOn(client, () => Promise.reject(new Error('x')), { settings: { work_mem: '7MB' } })).rejects.toThrow('x');
      expect((await client.query('SHOW work_mem')).rows[0].work_mem).not.toBe('7MB');
    } finally {
      client.release();
    }
  });

  it('rolls back a transaction whose SET LOCAL fails, leaving the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      await expect(transactionOn(client, async () => 'never', { settings: { work_mem: 'lots' } })).rejects.toMatchObject({ code: '22023' });
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1); // not "current transaction is aborted"
    } finally {
      client.release();
    }
  });

  it('refuses a setting name that is not one (no SQL through the options)', () => {
    expect(() => beginStatement({ settings: { 'x; DROP TABLE tx_test': 1 } })).toThrow('not a setting name');
    expect(beginStatement({ settings: { application_name: "it's" } })).toBe(`BEGIN; SET LOCAL application_name = 'it''s'`);
  });

  it('sets the isolation level', async () => {
    const level = await withTransaction(db.pool, async (tx) => (await tx.query('SHOW transaction_isolation')).rows[0].transaction_isolation, { isolation: 'serializable' });
    expect(level).toBe('serializable');
  });

  it('cancels a statement that runs past statementTimeoutMs (57014), for that transaction only', async () => {
    await expect(withTransaction(db.pool, (tx) => tx.query('SELECT pg_sleep(2)'), { statementTimeoutMs: 100 })).rejects.toMatchObject({ code: '57014' });
    const { rows } = await db.pool.query('SHOW statement_timeout');
    expect(rows[0].statement_timeout).toBe('0');
  });

  it('gives a read-only snapshot when asked', async () => {
    await expect(withTransaction(db.pool, (tx) => tx.query(`INSERT INTO source_groups (name) VALUES ('x')`), { readOnlySnapshot: true })).rejects.toMatchObject({ code: '25006' });
    const isolation = await withTransaction(db.pool, async (tx) => (await tx.query('SHOW transaction_isolation')).rows[0].transaction_isolation, { readOnlySnapshot: true });
    expect(isolation).toBe('repeatable read');
  });
});

describe('transactionStream', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE tx_stream (n int)');
  });
  afterAll(async () => db?.drop());

  const rows = async () => (await db.pool.query('SELECT n FROM tx_stream ORDER BY n')).rows.map((r) => r.n);

  it('begins before the first item with its SET LOCAL settings, commits after the last, and the settings end with it', async () => {
    const client = await db.pool.connect();
    try {
      const seen: string[] = [];
      for await (const item of transactionStream(client, async function* (tx) {
        await tx.query('INSERT INTO tx_stream VALUES (1)');
        yield (await tx.query('SHOW work_mem')).rows[0].work_mem as string;
        yield (await tx.query('SELECT now() = statement_timestamp() AS fresh')).rows[0].fresh ? 'new transaction' : 'same transaction';
      }, { settings: { work_mem: '7MB' } })) seen.push(item);
      expect(seen).toEqual(['7MB', 'same transaction']);
      expect((await client.query('SHOW work_mem')).rows[0].work_mem).not.toBe('7MB');
      expect(await rows()).toEqual([1]);
    } finally {
      client.release();
    }
  });

  it('rolls back when the stream throws, passes the error on, and leaves the connection usable', async () => {
    await db.pool.query('TRUNCATE tx_stream');
    const client = await db.pool.connect();
    try {
      const stream = transactionStream(client, async function* (tx) {
        await tx.query('INSERT INTO tx_stream VALUES (2)');
        yield 1;
        await tx.query('SELECT 1/0');
      });
      await expect((async () => { for await (const _ of stream) void _; })()).rejects.toMatchObject({ code: '22012' });
      expect(await rows()).toEqual([]);
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      client.release();
    }
  });
});
