/** Processing yields the CPU to uploads: its thread and its database backends run at nice 10. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { lowerBackendPriority, lowerThisThreadPriority, PROCESSING_NICE } from '../../src/processing/priority.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const log = createLogger('silent');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe.skipIf(os.platform() !== 'linux')('processing priority', () => {
  it('lowers the calling thread only, not the rest of the process', () => {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    const before = os.getPriority(tid);
    lowerThisThreadPriority(log);
    expect(os.getPriority(tid)).toBe(Math.max(before, PROCESSING_NICE));
    // Another thread of this process (the first one listed that is not us) keeps its priority.
    const other = fs.readdirSync('/proc/self/task').map(Number).find((id) => id !== tid);
    if (other !== undefined) expect(os.getPriority(other)).toBe(before);
  });

  it('lowers the database backend of every connection the pool opens, without a query of its own beside the pool\'s', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    lowerBackendPriority(pool, log);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      // pool.query on a new connection: a query sent on 'connect' ran beside it (pg's deprecation warning)
      await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((warning) => warning.message)).toEqual([]);
      const [a, b] = [await pool.connect(), await pool.connect()];
      const pids = await Promise.all([a, b].map(async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number));
      a.release();
      b.release();
      await vi.waitFor(() => expect(pids.map((pid) => os.getPriority(pid))).toEqual([PROCESSING_NICE, PROCESSING_NICE]));
      // A connection from another pool is left alone.
      const plain = new pg.Client({ connectionString: db.url });
      await plain.connect();
      const { rows } = await plain.query('SELECT pg_backend_pid() AS pid');
      expect(os.getPriority(rows[0].pid)).toBe(0);
      await plain.end();
    } finally {
      process.off('warning', onWarning);
      await pool.end();
    }
  });
});
