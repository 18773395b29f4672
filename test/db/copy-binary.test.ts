import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBinaryRows, parseBinaryCopy, streamBinaryRowBatches, streamBinaryRows } from '../../src/db/copy-binary.ts';
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

describe('streamBinaryRows and streamBinaryRowBatches', () => {
  it('stream every row byte for byte, rows cut across chunks and rows of many chunks included', async () => {
    await db.pool.query('CREATE TABLE stream_rows (id int PRIMARY KEY, body bytea, note text)');
    // 3,000 rows of 1-5 KB (many cut by a chunk's end), a NULL, an empty value, and rows of 3 MB and 9 MB
    const bodies = new Map<number, Buffer | null>();
    for (let id = 1; id <= 3000; id++) bodies.set(id, Buffer.alloc(1000 + ((id * 7919) % 4000), id % 251));
    bodies.set(3001, null);
    bodies.set(3002, Buffer.alloc(0));
    bodies.set(3003, Buffer.alloc(3 * 1024 * 1024, 0xcd));
    bodies.set(3004, Buffer.from(Array.from({ length: 9 * 1024 * 1024 }, (_, i) => (i * 31) % 256)));
    const ids = [...bodies.keys()];
    await db.pool.query('INSERT INTO stream_rows SELECT * FROM unnest($1::int[], $2::bytea[], $3::text[])', [ids, ids.map((id) => bodies.get(id)), ids.map((id) => `row ${id}`)]);
    const client = await db.pool.connect();
    try {
      const sql = 'SELECT id, body, note FROM stream_rows ORDER BY id';
      let batches = 0;
      let seen = 0;
      for await (const batch of streamBinaryRowBatches(client, sql)) {
        batches += 1;
        expect(batch.fieldCount).toBe(3);
        for (let r = 0; r < batch.rows; r++) {
          const k = r * 3;
          const id = batch.buffer.readInt32BE(batch.starts[k]);
          expect(id).toBe(++seen);
          const body = batch.lengths[k + 1] === -1 ? null : batch.buffer.subarray(batch.starts[k + 1], batch.starts[k + 1] + batch.lengths[k + 1]);
          const expected = bodies.get(id)!;
          expect(body === null ? null : body.equals(expected!)).toBe(expected === null ? null : true);
          expect(batch.buffer.toString('utf8', batch.starts[k + 2], batch.starts[k + 2] + batch.lengths[k + 2])).toBe(`row ${id}`);
        }
      }
      expect(seen).toBe(3004);
      expect(batches).toBeGreaterThan(10); // many rows a batch, many batches
      expect(batches).toBeLessThan(3004);
      const rows: (Buffer | null)[][] = [];
      for await (const row of streamBinaryRows(client, sql)) rows.push(row);
      expect(rows.map((row) => row[0]!.readInt32BE(0))).toEqual([...bodies.keys()]);
      expect(rows[3002][1]!.equals(bodies.get(3003)!)).toBe(true);
      expect(rows[3000][1]).toBeNull();
      expect(rows[3001][1]).toEqual(Buffer.alloc(0));
      expect((await client.query('SELECT 3 AS three')).rows[0].three).toBe(3);
    } finally {
      client.release();
    }
  });

  it('rejects with the database error for a bad query', async () => {
    const client = await db.pool.connect();
    try {
      await expect(async () => {
        for await (const batch of streamBinaryRowBatches(client, 'SELECT * FROM no_such_table')) expect(batch).toBeUndefined();
      }).rejects.toThrow(/no_such_table/);
    } finally {
      client.release();
    }
  });
});
