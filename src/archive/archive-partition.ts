/**
 * Archiving one partition of a partitioned table (the job `partitions`, docs/partitions.md):
 *
 * 1. detach it, so nothing more is written to it (late points for its months land in the DEFAULT
 *    partition from then on) and reads leave it;
 * 2. write its rows as Parquet files (at most FILE_ROWS rows each) and put them in the store;
 * 3. verify: the rows written equal the detached table's count, and each file read back from the
 *    store has the bytes (SHA-256) and the row count written;
 * 4. put the manifest (last: a month with a manifest is a complete archive) and only then drop
 *    the table.
 * A run that stops anywhere is taken up again by the next: the detached table stays until step 4.
 *
 * The detach is plain, not CONCURRENTLY: PostgreSQL refuses DETACH ... CONCURRENTLY while the
 * table has a DEFAULT partition, which data_points keeps for points dated beyond the premade
 * months. A plain DETACH holds an ACCESS EXCLUSIVE lock on the parent for a moment, after the
 * queries running on it end; `lock_timeout` bounds the wait (uploads and processing wait behind
 * it meanwhile), and a detach that times out is tried again at the next run.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { ParquetFileWriter } from '../exports/parquet-writer.ts';
import type { Logger } from '../log.ts';
import {
  countRows, getArchivedPartition, quoteIdent, recordArchived, recordDetached, tableBlocks, type PartitionRange,
} from './archive.repository.ts';
import type { ArchiveStore } from './archive-store.ts';
import { archiveColumns, parquetCells, type ArchiveColumn } from './row-format.ts';

/** Rows per Parquet file: ~1.5 GB of points at most, so a file uploads (and retries) in minutes. */
const FILE_ROWS = 1_000_000;
/** Blocks read per query (64 MB): short statements, no snapshot held for the whole table. */
const BLOCKS_PER_READ = 8_192;
/** How long the detach waits for running queries before it gives up until the next run. */
const DETACH_LOCK_TIMEOUT_MS = 5_000;

export interface ArchiveDeps {
  pool: pg.Pool;
  store: ArchiveStore;
  log: Logger;
}

export interface ArchiveManifest {
  format: 'webmunk-dcs archive 1';
  parent: string;
  partition: string;
  /** ISO times; from null: the partition had no lower bound (MINVALUE) */
  from: string | null;
  to: string;
  rows: number;
  columns: { name: string; type: string; sqlType: string }[];
  files: { key: string; rows: number; bytes: number; sha256: string }[];
  createdAt: string;
}

/** Where a partition's files go: `<parent>/<partition>/`. */
export function archivePrefix(parent: string, partition: string): string {
  return `${parent}/${partition}/`;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Detaches `partition` from `parent` and records it; false when the lock was not had in time. */
export async function detachPartition(pool: pg.Pool, parent: string, partition: PartitionRange): Promise<boolean> {
  if (partition.to === null) throw new Error(`${partition.name}: no upper bound; the DEFAULT partition is never archived`);
  try {
    await withTransaction(pool, async (tx) => {
      await tx.query(`ALTER TABLE ${quoteIdent(parent)} DETACH PARTITION ${quoteIdent(partition.name)}`);
      await recordDetached(tx, { partition: partition.name, parent, rangeFrom: partition.from, rangeTo: partition.to! });
    }, { settings: { lock_timeout: DETACH_LOCK_TIMEOUT_MS } });
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return false; // lock_not_available
    throw error;
  }
}

/** Writes the detached `table` as Parquet files in `dir`; returns the files and their row counts. */
async function writeParquet(pool: pg.Pool, table: string, columns: ArchiveColumn[], dir: string): Promise<{ file: string; rows: number }[]> {
  const files: { file: string; rows: number }[] = [];
  let writer: ParquetFileWriter | undefined;
  let inFile = 0;
  const blocks = await tableBlocks(pool, table);
  const select = `SELECT ${columns.map((c) => c.select).join(', ')} FROM ${quoteIdent(table)} WHERE ctid >= $1::tid AND ctid < $2::tid`;
  for (let start = 0; start < blocks; start += BLOCKS_PER_READ) {
    const { rows } = await pool.query({ text: select, values: [`(${start},0)`, `(${start + BLOCKS_PER_READ},0)`], rowMode: 'array' });
    for (const row of rows as unknown[][]) {
      if (!writer) {
        const file = path.join(dir, `part-${String(files.length + 1).padStart(5, '0')}.parquet`);
        files.push({ file, rows: 0 });
        writer = new ParquetFileWriter(file, columns, { rowGroupRows: 50_000, createdBy: 'webmunk-dcs archive' });
        inFile = 0;
      }
      await writer.addRow(parquetCells(columns, row));
      files.at(-1)!.rows += 1;
      if (++inFile >= FILE_ROWS) {
        await writer.close();
        writer = undefined;
      }
    }
  }
  await writer?.close();
  return files;
}

/**
 * Archives the detached `partition` (recorded by detachPartition) to the store and drops it.
 * Throws, leaving the detached table in place, when anything does not verify.
 */
export async function archiveDetached(deps: ArchiveDeps, partition: string): Promise<ArchiveManifest> {
  const { pool, store, log } = deps;
  const record = await getArchivedPartition(pool, partition);
  if (!record || record.state !== 'detached') throw new Error(`${partition} is not a detached partition waiting to be archived`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dcs-archive-${partition}-`));
  try {
    const columns = await archiveColumns(pool, partition);
    const written = await writeParquet(pool, partition, columns, dir);
    const rows = written.reduce((sum, f) => sum + f.rows, 0);
    const counted = await countRows(pool, partition);
    if (rows !== counted) throw new Error(`${partition}: wrote ${rows} rows but the table holds ${counted}`);
    const prefix = archivePrefix(record.parent, partition);
    const files: ArchiveManifest['files'] = [];
    for (const { file, rows: fileRows } of written) {
      const key = prefix + path.basename(file);
      const digest = await sha256(file);
      await store.putFile(key, file);
      // Read back from the store: what is there is what was written, all its rows.
      const back = path.join(dir, 'verify.parquet');
      if (!(await store.getFile(key, back))) throw new Error(`${store.name}: ${key} is missing right after it was written`);
      const metadata = await parquetMetadataAsync(await asyncBufferFromFile(back));
      const backDigest = await sha256(back);
      if (backDigest !== digest || Number(metadata.num_rows) !== fileRows) {
        throw new Error(`${store.name}: ${key} does not read back as written (${metadata.num_rows} rows, sha256 ${backDigest})`);
      }
      files.push({ key, rows: fileRows, bytes: fs.statSync(file).size, sha256: digest });
      fs.rmSync(back);
      fs.rmSync(file);
    }
    const manifest: ArchiveManifest = {
      format: 'webmunk-dcs archive 1',
      parent: record.parent,
      partition,
      from: record.rangeFrom?.toISOString() ?? null,
      to: record.rangeTo.toISOString(),
      rows,
      columns: columns.map(({ name, type, sqlType }) => ({ name, type, sqlType })),
      files,
      createdAt: new Date().toISOString(),
    };
    const manifestFile = path.join(dir, 'manifest.json');
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    const manifestKey = `${prefix}manifest.json`;
    await store.putFile(manifestKey, manifestFile);
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    await withTransaction(pool, async (tx) => {
      await recordArchived(tx, partition, { location: store.name, manifestKey, rows, bytes });
      await tx.query(`DROP TABLE ${quoteIdent(partition)}`);
    });
    log.info({ partition, rows, files: files.length, bytes, store: store.name }, `archived ${partition}: ${rows} rows in ${files.length} Parquet file(s), then dropped it`);
    return manifest;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
