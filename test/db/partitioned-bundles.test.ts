/**
 * bundles partitioned by month of received_at on a new install (migration 0034,
 * docs/partitions.md): its keys, no DEFAULT partition, the months premade by the `partitions` job
 * with the queue's autovacuum settings, an upload sent again from the spool stored once, and the
 * batch's bookkeeping reading only the partition of each bundle.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { loadConfig } from '../../src/config.ts';
import { listPartitions, monthPartitionName, monthStart } from '../../src/db/partitions.ts';
import { insertUpload, type ReceivedUpload } from '../../src/ingest/bundle.repository.ts';
import { Spool } from '../../src/ingest/spool.ts';
import { createLogger } from '../../src/log.ts';
import { RECORD_BATCH_SQL } from '../../src/processing/record-batch.sql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { samples } from '../helpers/samples.ts';

const log = createLogger('silent');
let db: TestDatabase;
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-spool-bundles-'));

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

function upload(receivedAt: Date): ReceivedUpload {
  return {
    receipt: randomUUID(),
    receivedAt,
    bundle: {
      endpoint: 'bundle', transport: 'json', contentType: 'application/json', compression: 'none', encrypted: false, nonce: undefined,
      body: Buffer.from(JSON.stringify(samples(2))), identifier: undefined, files: [{ fieldName: 'shot', filename: 'a.png', contentType: 'image/png', content: Buffer.from([1, 2, 3]) }],
    },
  };
}

/** Inserts `u` as ingest does, in a transaction (it has a file); returns what insertUpload returned. */
async function insert(u: ReceivedUpload) {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await insertUpload(client, u, Number.MAX_SAFE_INTEGER);
    await client.query('COMMIT');
    return inserted;
  } finally {
    client.release();
  }
}

/** The partitions of bundles a statement read (EXPLAIN ANALYZE in a transaction rolled back). */
async function partitionsRead(sql: string, params: unknown[]): Promise<string[]> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    await client.query('ROLLBACK');
    const read = new Set<string>();
    const walk = (node: Record<string, unknown>) => {
      const relation = node['Relation Name'] as string | undefined;
      if (relation?.startsWith('bundles_') && (node['Actual Loops'] as number) > 0) read.add(relation);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return [...read].sort();
  } finally {
    client.release();
  }
}

describe('bundles on a new install', () => {
  it('is partitioned by month of received_at, history and the 12 months ahead, without DEFAULT, keyed with received_at', async () => {
    const partitions = await listPartitions(db.pool, 'bundles');
    expect(partitions.some((p) => p.isDefault)).toBe(false);
    expect(partitions.map((p) => p.name)).toEqual([
      'bundles_history', ...Array.from({ length: 12 }, (_, i) => monthPartitionName('bundles', monthStart(new Date(), i + 1))),
    ]);
    const { rows } = await db.pool.query(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'bundles'::regclass AND contype = 'p'
       UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bundle_files_bundle_fkey'
       UNION ALL SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index WHERE indexrelid = 'bundles_receipt'::regclass`,
    );
    expect(rows.map((r) => r.def)).toEqual([
      'PRIMARY KEY (received_at, id)',
      'FOREIGN KEY (bundle_received_at, bundle_id) REFERENCES bundles(received_at, id) ON UPDATE CASCADE ON DELETE CASCADE',
      'CREATE UNIQUE INDEX bundles_receipt ON ONLY public.bundles USING btree (received_at, receipt)',
    ]);
  });

  it('stores an upload sent again from the spool once: the spool replays its arrival time', async () => {
    const u = upload(new Date(Date.now() - 60_000));
    // The insert committed, but the web process saw it time out and spooled the upload too.
    const id = Number(await insert(u)); // (this test's pool gives int8 as text)
    expect(id).toBeGreaterThan(0);
    const spool = new Spool(spoolDir, 1024 ** 2, log);
    await spool.open();
    await spool.write(u);
    await spool.drain(db.pool);
    expect(fs.readdirSync(spoolDir).filter((name) => name.endsWith('.upload'))).toEqual([]); // drained: found stored
    const { rows } = await db.pool.query(
      `SELECT b.id::int, (SELECT count(*)::int FROM bundle_files f WHERE f.bundle_id = b.id AND f.bundle_received_at = b.received_at) AS files
       FROM bundles b WHERE receipt = $1`,
      [u.receipt],
    );
    expect(rows).toEqual([{ id, files: 1 }]);
    expect(await insert(u)).toBe('stored-before');
  });

  it('is premade ahead by the partitions job, each new month with the queue\'s autovacuum settings', async () => {
    const later = new Date(Date.UTC(new Date().getUTCFullYear() + 2, 5, 15));
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', DATA_DIR: spoolDir });
    const counts = await maintainPartitions({ pool: db.pool, config, log }, later);
    const names = (await listPartitions(db.pool, 'bundles')).map((p) => p.name);
    expect(names.at(-1)).toBe(monthPartitionName('bundles', monthStart(later, 12)));
    expect(names).toContain(monthPartitionName('bundles', later));
    // as many bundle months as point months were made (both ended at the same month before)
    expect(counts.premade).toBe(2 * (names.length - 13));
    const { rows } = await db.pool.query(`SELECT c.relname, c.reloptions FROM pg_partition_tree('bundles') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf`);
    expect(rows).toHaveLength(names.length);
    for (const row of rows) {
      expect(row.reloptions, row.relname).toEqual(expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02', 'autovacuum_vacuum_insert_scale_factor=0.02']));
    }
    const bundle = upload(new Date(later.getTime()));
    await insert(bundle);
    const { rows: where } = await db.pool.query(`SELECT tableoid::regclass::text AS part FROM bundles WHERE receipt = $1`, [bundle.receipt]);
    expect(where[0].part).toBe(monthPartitionName('bundles', later));
  });

  it('marks a processed batch reading only the partitions of its bundles', async () => {
    // Bundles in four months; the batch holds two of them, in two months.
    const day = 86_400_000;
    const months = [new Date(Date.now() - 40 * day), ...[1, 2, 3].map((n) => new Date(monthStart(new Date(), n).getTime() + day))];
    const keys: { id: number; at: string; part: string }[] = [];
    for (const at of months) {
      const { rows } = await db.pool.query(
        `INSERT INTO bundles (received_at, endpoint, transport, body) VALUES ($1, 'bundle', 'json', '[]')
         RETURNING id::int, received_at::text AS at, tableoid::regclass::text AS part`,
        [at],
      );
      keys.push(rows[0]);
    }
    const batch = [keys[0], keys[2]];
    const none: string[] = [];
    const read = await partitionsRead(RECORD_BATCH_SQL, [
      none, none, none, none, none, none, none, none, none, none, none,
      batch.map((k) => k.id), [1, 1], [0, 0], [0, 0], [null, null], [null, null], none, batch.map((k) => k.at),
    ]);
    const { rows: marked } = await db.pool.query(`SELECT id::int FROM bundles WHERE status = 'processed' ORDER BY id`);
    expect(marked).toEqual([]); // rolled back
    expect(new Set(keys.map((k) => k.part)).size).toBe(4);
    expect(read).toEqual([keys[0].part, keys[2].part].sort());
  });
});
