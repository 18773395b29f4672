/** withTransaction's options: a statement timeout that cancels, and a read-only snapshot. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('withTransaction', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('cancels a statement that runs past statementTimeoutMs (57014), for that transaction only', async () => {
    await expect(withTransaction(db.pool, (client) => client.query('SELECT pg_sleep(2)'), { statementTimeoutMs: 100 })).rejects.toMatchObject({ code: '57014' });
    const { rows } = await db.pool.query('SHOW statement_timeout');
    expect(rows[0].statement_timeout).toBe('0');
  });

  it('gives a read-only snapshot when asked', async () => {
    await expect(withTransaction(db.pool, (client) => client.query(`INSERT INTO source_groups (name) VALUES ('x')`), { readOnlySnapshot: true })).rejects.toMatchObject({ code: '25006' });
    const isolation = await withTransaction(db.pool, async (client) => (await client.query('SHOW transaction_isolation')).rows[0].transaction_isolation, { readOnlySnapshot: true });
    expect(isolation).toBe('repeatable read');
  });
});
