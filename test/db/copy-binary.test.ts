import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBinaryRows, parseBinaryCopy } from '../../src/db/copy-binary.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('copyBinaryRows', () => {
  it('returns bytea values byte for byte, NULLs and empty values included, in query order', async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const large = Buffer.alloc(3 * 1024 * 1024, 0xab); // spans many COPY data messages
    await db.pool.query('CREATE TABLE blobs (id int PRIMARY KEY, body bytea)');
    await db.pool.query('INSERT INTO blobs VALUES (1, $1), (2, NULL), (3, $2), (4, $3)', [every, Buffer.alloc(0), large]);
    const client = await db.pool.connect();
    try {
      const rows = await copyBinaryRows(client, 'SELECT id, body FROM blobs ORDER BY id DESC');
      expect(rows.map((row) => row[0]?.readInt32BE(0))).toEqual([4, 3, 2, 1]);
      expect(rows[0][1]?.equals(large)).toBe(true);
      expect(rows[1][1]).toEqual(Buffer.alloc(0));
      expect(rows[2][1]).toBeNull();
      expect(rows[3][1]?.equals(every)).toBe(true);
      // The connection is usable afterwards.
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      client.release();
    }
  });

  it('rejects with the database error for a bad query, leaving the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      await expect(copyBinaryRows(client, 'SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
      expect((await client.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    } finally {
      client.release();
    }
  });

  it('refuses data that is not a binary COPY stream', () => {
    expect(() => parseBinaryCopy(Buffer.from('id\tbody\n1\t\\x00\n'))).toThrow(/not a binary COPY stream/);
  });
});
