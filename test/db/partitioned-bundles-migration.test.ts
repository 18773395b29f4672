/**
 * Migration 0034 on a database a server of the former version filled (issue 22 M1): bundles becomes
 * partitioned by month of received_at without rewriting a bundle. The old table is attached as
 * bundles_history with its own heap (same relfilenode) and the indexes whose definition stays;
 * bundle_files and backup_queue get their bundles' received_at; the counters, the triggers and the
 * autovacuum settings carry over; the spool's uploads are inserted once; and uploads, processing,
 * reprocessing, backup and restore, erasure and retention work on the partitioned table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackupNow } from '../../src/backup/backup.job.ts';
import { folderStore } from '../../src/object-store.ts';
import { bundleRetentionJob } from '../../src/backup/bundle-retention.job.ts';
import { restoreBackup } from '../../src/backup/restore.ts';
import { loadConfig } from '../../src/config.ts';
import { eraseSource } from '../../src/data-quality/erasure.ts';
import { migrate } from '../../src/db/migrate.ts';
import { monthPartitionName, monthStart } from '../../src/db/partitions.ts';
import { completePointDigestsIfEmpty } from '../../src/db/point-digests.ts';
import type { ReceivedUpload } from '../../src/ingest/bundle.repository.ts';
import { Spool } from '../../src/ingest/spool.ts';
import { createLogger } from '../../src/log.ts';
import { readBundleCounts } from '../../src/monitoring/bundle-counts.repository.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { studyPoints } from '../backup/support.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const log = createLogger('silent');
const DAY = 86_400_000;
const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const spoolDir = tempDir('dcs-spool-0034-');
const backupDir = tempDir('dcs-backup-0034-');
const BACKUP_KEY = Buffer.alloc(32, 34).toString('base64');

let db: TestDatabase;
let server: TestServer;
const notices: string[] = [];
/** What the former version left, read before the migration. */
let before: { heap: number; indexes: Map<string, number>; statuses: Record<string, number>; files: number; queued: number; lastId: number };

/** A server clock that was ahead: a bundle received 2 days into next month. */
const ahead = new Date(monthStart(new Date(), 1).getTime() + 2 * DAY);
const historyBound = monthStart(ahead, 1);
/** An upload whose insert committed although the web process saw it time out, so it also went to the spool. */
const stored = spooledUpload(1, new Date(Date.now() - 3 * 3_600_000));
/** An upload that waited in the spool through the upgrade. */
const waiting = spooledUpload(2, new Date(Date.now() - 2 * 3_600_000));

function spooledUpload(n: number, receivedAt: Date): ReceivedUpload {
  return {
    receipt: `00000000-0000-4000-8000-00000000003${n}`,
    receivedAt,
    bundle: {
      endpoint: 'bundle', transport: 'json', contentType: 'application/json', compression: 'none', encrypted: false, nonce: undefined,
      body: Buffer.from(JSON.stringify(studyPoints(`spooled-${n}`, 2))), identifier: undefined, files: [],
    },
  };
}

/** Inserts a bundle as the former version stored it; returns its id. */
async function formerBundle(values: { source: string; receivedAt: Date; points?: number; status?: string; attempts?: number; error?: string; body?: Buffer; receipt?: string }): Promise<number> {
  const body = values.body ?? Buffer.from(JSON.stringify(studyPoints(values.source, values.points ?? 2, Math.floor(values.receivedAt.getTime() / 1000))));
  const status = values.status ?? 'pending';
  const { rows } = await db.pool.query(
    `INSERT INTO bundles (receipt, received_at, endpoint, transport, content_type, compression, body, status, attempts, error, processed_at, point_count, points_added, points_rejected, sources)
     VALUES ($1, $2, 'bundle', 'json', 'application/json', 'none', $3, $4, $5, $6, CASE WHEN $4 <> 'pending' THEN $2::timestamptz + interval '1 minute' END,
             CASE WHEN $4 = 'processed' THEN $7::int END, CASE WHEN $4 = 'processed' THEN $7::int END, CASE WHEN $4 = 'processed' THEN 0 END,
             CASE WHEN $4 = 'processed' THEN ARRAY[$8::text] END)
     RETURNING id::int`,
    [values.receipt ?? null, values.receivedAt, body, status, values.attempts ?? 0, values.error ?? null, values.points ?? 2, values.source],
  );
  return rows[0].id;
}

async function filenodes(table: string): Promise<Map<string, number>> {
  const { rows } = await db.pool.query(
    `SELECT c.relname AS name, c.relfilenode::int AS filenode FROM pg_class c WHERE c.oid = $1::regclass
     UNION ALL
     SELECT c.relname, c.relfilenode::int FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass`,
    [table],
  );
  return new Map(rows.map((r) => [r.name, r.filenode]));
}

async function scalar<T = number>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.pool.query(sql, params);
  return Object.values(rows[0])[0] as T;
}

async function countedByScan() {
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS received, count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'errored')::int AS errored,
            coalesce(sum(points_rejected), 0)::int AS points_rejected FROM bundles`,
  );
  return rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase({ before: 34 });
  const client = await db.pool.connect();
  try {
    await completePointDigestsIfEmpty(client); // migration 0009's step, done as on any database here
  } finally {
    client.release();
  }
  // Two years of processed uploads of two participants (their points were archived elsewhere:
  // reprocessing makes them again), pending ones, one with an attached file that its point names,
  // an undecodable upload, one that failed processing three times, and one from a clock ahead.
  for (let i = 0; i < 24; i += 1) {
    await formerBundle({ source: i % 2 === 0 ? 'old-a' : 'old-b', receivedAt: new Date(Date.now() - (30 * i + 40) * DAY), status: 'processed' });
  }
  for (let i = 0; i < 3; i += 1) await formerBundle({ source: 'old-pending', receivedAt: new Date(Date.now() - i * DAY) });
  const [withFile] = studyPoints('old-file', 1, 1_780_000_000);
  withFile['screenshot@'] = 'shot';
  const fileBundle = await formerBundle({ source: 'old-file', receivedAt: new Date(Date.now() - 5 * DAY), body: Buffer.from(JSON.stringify([withFile])) });
  await db.pool.query(`INSERT INTO bundle_files (bundle_id, field_name, filename, content_type, size, content) VALUES ($1, 'shot', 'shot.png', 'image/png', 3, '\\x010203')`, [fileBundle]);
  await formerBundle({ source: 'old-errored', receivedAt: new Date(Date.now() - 10 * DAY), status: 'errored', error: 'Unable to parse data bundle.', body: Buffer.from('not a payload') });
  await formerBundle({ source: 'old-failed', receivedAt: new Date(Date.now() - 11 * DAY), status: 'errored', attempts: 3, error: 'failed three times' });
  await formerBundle({ source: 'old-ahead', receivedAt: ahead });
  await formerBundle({ source: 'spooled-1', receivedAt: stored.receivedAt, receipt: stored.receipt, body: stored.bundle.body });
  const spool = new Spool(spoolDir, 1024 ** 2, log);
  await spool.open();
  await spool.write(stored);
  await spool.write(waiting);

  const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM bundles GROUP BY status`);
  before = {
    heap: (await filenodes('bundles')).get('bundles')!,
    indexes: await filenodes('bundles'),
    statuses: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    files: await scalar('SELECT count(*)::int FROM bundle_files'),
    queued: await scalar('SELECT count(*)::int FROM backup_queue'),
    lastId: Number(await scalar(`SELECT last_value FROM bundles_id_seq`)),
  };
  await migrate(db.pool, (message) => notices.push(message));
  server = await startTestServer({ BACKUP_KEY, BACKUP_DIR: backupDir }, { db });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
  fs.rmSync(backupDir, { recursive: true, force: true });
});

describe('migration 0034 on bundles stored by the former version', () => {
  it('made bundles a partitioned table: the history up to the month after the clock-ahead bundle, the months ahead, no DEFAULT', async () => {
    expect(await scalar<string>(`SELECT relkind::text FROM pg_class WHERE oid = 'bundles'::regclass`)).toBe('p');
    const { rows } = await db.pool.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'bundles'::regclass AND c.relkind = 'r'`,
    );
    const months: string[] = [];
    for (let month = historyBound; month < monthStart(new Date(), 13); month = monthStart(month, 1)) months.push(monthPartitionName('bundles', month));
    expect(rows.map((r) => r.name).sort()).toEqual(['bundles_history', ...months].sort());
    const history = rows.find((r) => r.name === 'bundles_history').bound as string;
    expect(history).toMatch(/^FOR VALUES FROM \(MINVALUE\) TO \('.+'\)$/);
    expect(new Date(history.match(/TO \('(.+)'\)/)![1]).getTime()).toBe(historyBound.getTime());
    expect(notices.join('\n')).toContain('bundles: partitioned by month of received_at');
    expect(notices.join('\n')).toContain('1 attachment row(s) given their bundle\'s received_at');
    expect(notices.join('\n')).toContain(`bundles: premade ${months[0]}`);
  });

  it('kept every bundle in place: the same heap, the unchanged indexes attached, not rebuilt', async () => {
    const after = await filenodes('bundles_history');
    expect(after.get('bundles_history')).toBe(before.heap);
    for (const name of ['bundles_pending', 'bundles_errored', 'bundles_sources', 'bundles_pending_received', 'bundles_processed_at']) {
      expect(after.get(name.replace(/^bundles_/, 'bundles_history_')), name).toBe(before.indexes.get(name));
    }
    const { rows } = await db.pool.query(
      `SELECT c.relname AS name, p.relname AS parent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'bundles_history'::regclass)`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.parent]))).toEqual({
      bundles_history_pkey: 'bundles_pkey', bundles_history_receipt: 'bundles_receipt', bundles_history_id: 'bundles_id',
      bundles_history_pending: 'bundles_pending', bundles_history_errored: 'bundles_errored', bundles_history_sources: 'bundles_sources',
      bundles_history_pending_received: 'bundles_pending_received', bundles_history_processed_at: 'bundles_processed_at',
    });
  });

  it('kept the counts, the counters, the files with their bundles\' times and the backup queue', async () => {
    const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM bundles_history GROUP BY status`);
    expect(Object.fromEntries(rows.map((r) => [r.status, r.n]))).toEqual(before.statuses);
    expect(before.statuses).toEqual({ processed: 24, pending: 6, errored: 2 });
    expect(await scalar('SELECT count(*)::int FROM bundle_files')).toBe(before.files);
    expect(await scalar(`SELECT count(*)::int FROM bundle_files f JOIN bundles b ON b.id = f.bundle_id AND b.received_at = f.bundle_received_at`)).toBe(before.files);
    expect(await scalar(`SELECT convalidated FROM pg_constraint WHERE conname = 'bundle_files_bundle_fkey' AND conrelid = 'bundle_files'::regclass`)).toBe(true);
    expect(await scalar(`SELECT count(*)::int FROM backup_queue q JOIN bundles b ON b.id = q.bundle_id AND b.received_at = q.bundle_received_at`))
      .toBe(await scalar('SELECT count(*)::int FROM backup_queue'));
    expect(await scalar('SELECT count(*)::int FROM backup_queue')).toBeGreaterThanOrEqual(before.queued);
    expect(await readBundleCounts(db.pool)).toEqual(await countedByScan());
  });

  it('moved the triggers to the parent and gave every partition the queue\'s autovacuum settings', async () => {
    const { rows } = await db.pool.query(`SELECT tgrelid::regclass::text AS tab, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT relid FROM pg_partition_tree('bundles')) ORDER BY tgname`);
    expect(rows).toEqual(['bundles_count_deletes', 'bundles_count_inserts', 'bundles_count_truncates', 'bundles_count_updates', 'bundles_queue_backup'].map((tgname) => ({ tab: 'bundles', tgname })));
    const { rows: options } = await db.pool.query(`SELECT c.relname, c.reloptions FROM pg_partition_tree('bundles') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf`);
    expect(options.length).toBeGreaterThan(1);
    for (const row of options) {
      expect(row.reloptions, row.relname).toEqual(expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02', 'autovacuum_vacuum_insert_scale_factor=0.02']));
    }
  });

  it('inserts the spooled uploads once: the one stored before the upgrade is found by its receipt and time', async () => {
    expect(await new Spool(spoolDir, 1024 ** 2, log).drain(db.pool)).toBe(1);
    expect(fs.readdirSync(spoolDir).filter((name) => name.endsWith('.upload'))).toEqual([]);
    for (const upload of [stored, waiting]) {
      expect(await scalar('SELECT count(*)::int FROM bundles WHERE receipt = $1', [upload.receipt]), upload.receipt).toBe(1);
    }
    expect(await scalar<string>(`SELECT tableoid::regclass::text FROM bundles WHERE receipt = $1`, [waiting.receipt])).toBe('bundles_history');
  });

  it('goes on with ids from where they were, and puts a bundle received in a premade month into it', async () => {
    const later = monthStart(new Date(), 3);
    const { rows } = await db.pool.query(
      `INSERT INTO bundles (received_at, endpoint, transport, body) VALUES ($1, 'bundle', 'json', '[]') RETURNING id::int, tableoid::regclass::text AS part`,
      [new Date(later.getTime() + DAY)],
    );
    expect(rows[0].id).toBeGreaterThan(before.lastId);
    expect(rows[0].part).toBe(monthPartitionName('bundles', later));
    await db.pool.query('DELETE FROM bundles WHERE id = $1', [rows[0].id]);
  });

  it('processes the pending bundles, links the file its point names, and takes new uploads', async () => {
    await postGzip(server, studyPoints('new-upload', 3));
    const done = await server.process();
    expect(done.failed).toBe(0);
    expect(await scalar(`SELECT count(*)::int FROM bundles WHERE status = 'pending'`)).toBe(0);
    expect(await scalar(`SELECT count(*)::int FROM data_points WHERE source IN ('old-pending', 'old-file', 'old-ahead', 'spooled-1', 'spooled-2', 'new-upload')`)).toBe(3 * 2 + 1 + 2 + 2 + 2 + 3);
    expect(await scalar(`SELECT count(*)::int FROM data_point_files l JOIN bundle_files f ON f.id = l.file_id WHERE f.field_name = 'shot'`)).toBe(1);
    expect(await readBundleCounts(db.pool)).toEqual(await countedByScan());
  });

  it('reprocesses the old bundles of a participant, in whichever month they are', async () => {
    expect(await queueReprocess(server.running.db.pool, { source: 'old-a' })).toBe(12);
    await server.process();
    expect(await scalar(`SELECT count(*)::int FROM bundles WHERE sources @> ARRAY['old-a'] AND status = 'processed' AND points_added = 2`)).toBe(12);
    expect(await scalar(`SELECT count(*)::int FROM data_points WHERE source = 'old-a'`)).toBe(24);
  });

  it('backs up every bundle with its file, and the backup restores into a new database once', async () => {
    const total = await scalar('SELECT count(*)::int FROM bundles');
    const counts = await runBackupNow({ pool: server.running.db.pool, config: server.config, log });
    expect(counts).toMatchObject({ bundles: total });
    expect(await scalar('SELECT count(*)::int FROM backup_queue')).toBe(0);
    const target = await createTestDatabase();
    try {
      const store = folderStore(backupDir);
      expect(await restoreBackup(target.pool, store, server.config.backupKey!, { merge: false })).toMatchObject({ bundlesRead: total, bundlesLoaded: total });
      expect(await restoreBackup(target.pool, store, server.config.backupKey!, { merge: true })).toMatchObject({ bundlesRead: total, bundlesLoaded: 0 });
      const { rows } = await target.pool.query(
        `SELECT count(*)::int AS files FROM bundle_files f JOIN bundles b ON b.id = f.bundle_id AND b.received_at = f.bundle_received_at WHERE f.content = '\\x010203'`,
      );
      expect(rows[0].files).toBe(1);
      const { rows: times } = await target.pool.query(`SELECT array_agg(received_at::text ORDER BY received_at) AS t FROM bundles`);
      const { rows: ours } = await db.pool.query(`SELECT array_agg(received_at::text ORDER BY received_at) AS t FROM bundles`);
      expect(times[0].t).toEqual(ours[0].t);
    } finally {
      await target.drop();
    }
  });

  it('erases a participant\'s bundles across the months', async () => {
    const report = await eraseSource(server.running.db.pool, 'old-b', 'test');
    expect(report.counts.bundles).toBe(12);
    expect(await scalar(`SELECT count(*)::int FROM bundles WHERE sources @> ARRAY['old-b']`)).toBe(0);
    expect(await readBundleCounts(db.pool)).toEqual(await countedByScan());
  });

  it('drops the old processed bundles that are backed up, not the one with a file', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', DATA_DIR: server.config.dataDir, BUNDLE_RETENTION_DAYS: '30', BACKUP_KEY, BACKUP_DIR: backupDir });
    const old = await scalar(`SELECT count(*)::int FROM bundles b WHERE received_at < now() - interval '30 days' AND status = 'processed'
                                AND NOT EXISTS (SELECT 1 FROM bundle_files f WHERE f.bundle_id = b.id)`);
    expect(old).toBe(12); // old-a's, reprocessed
    expect(await runOk(server.running.db.pool, config, bundleRetentionJob)).toEqual({ dropped: 12 });
    expect(await scalar(`SELECT count(*)::int FROM bundles WHERE received_at < now() - interval '30 days' AND status = 'processed'`)).toBe(0);
    expect(await scalar(`SELECT count(*)::int FROM data_points WHERE source = 'old-a'`)).toBe(24); // points stay
    expect(await readBundleCounts(db.pool)).toEqual(await countedByScan());
  });
});
