/**
 * `dcs archive restore`: an archived partition back in its table, from its manifest and Parquet
 * files. In one transaction: the rows are copied into a new table of the parent's shape; the
 * points that arrived for its range after it was archived (they waited in the DEFAULT partition)
 * move in with them, a point the archive already holds once only; the table is attached again.
 * Uploads go on meanwhile: only points bound for DEFAULT wait, and only for the move and the
 * ATTACH at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { ArchiveManifest } from './archive-partition.ts';
import { getArchivedPartition, partitionRanges, quoteIdent, recordRestored, uniqueKeyColumns } from './archive.repository.ts';
import type { ArchiveStore } from './archive-store.ts';
import { copyLine, type ArchiveColumn } from './row-format.ts';

export interface RestoreResult {
  partition: string;
  rows: number;
  /** points that had arrived for its range since it was archived, moved in from DEFAULT */
  movedFromDefault: number;
}

/** The COPY text of every row of a Parquet file, one row group at a time. */
async function* copyText(file: string, columns: readonly ArchiveColumn[]): AsyncGenerator<string> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({
      file: buffer, metadata, rowStart, rowEnd, columns: columns.map((c) => c.name),
      parsers: { timestampFromMicroseconds: (micros: bigint) => micros } as never,
    });
    let text = '';
    for (const row of rows) text += copyLine(columns, columns.map((c) => (row as Record<string, unknown>)[c.name]));
    yield text;
    rowStart = rowEnd;
  }
}

export async function restorePartition(deps: { pool: pg.Pool; store: ArchiveStore; log: Logger }, partition: string): Promise<RestoreResult> {
  const { pool, store, log } = deps;
  const record = await getArchivedPartition(pool, partition);
  if (!record || record.state !== 'archived' || !record.manifestKey) throw new Error(`${partition} is not an archived partition (dcs archive list shows them)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dcs-restore-${partition}-`));
  try {
    const manifestFile = path.join(dir, 'manifest.json');
    if (!(await store.getFile(record.manifestKey, manifestFile))) throw new Error(`${store.name}: no ${record.manifestKey}`);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ArchiveManifest;
    const columns = manifest.columns as ArchiveColumn[];
    const files: string[] = [];
    for (const entry of manifest.files) {
      const file = path.join(dir, path.basename(entry.key));
      if (!(await store.getFile(entry.key, file))) throw new Error(`${store.name}: no ${entry.key}`);
      files.push(file);
    }
    const parent = quoteIdent(record.parent);
    const table = quoteIdent(partition);
    const fallback = (await partitionRanges(pool, record.parent)).find((p) => p.isDefault);
    const key = (await uniqueKeyColumns(pool, record.parent)).map(quoteIdent).join(', ');
    const from = record.rangeFrom ? `'${record.rangeFrom.toISOString()}'` : 'MINVALUE';
    const to = `'${record.rangeTo.toISOString()}'`;
    const bound = quoteIdent(await rangeColumn(pool, record.parent));
    const within = `${record.rangeFrom ? `${bound} >= ${from} AND ` : ''}${bound} < ${to}`;
    const result = await withTransaction(pool, async (tx) => {
      await tx.query(`CREATE TABLE ${table} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)`);
      for (const file of files) {
        await pipeline(Readable.from(copyText(file, columns)), tx.query(copyFrom(`COPY ${table} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`)));
      }
      const restored = Number((await tx.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0].n);
      if (restored !== manifest.rows) throw new Error(`${partition}: the archive holds ${manifest.rows} rows, ${restored} were read back`);
      // The range as a constraint (one scan, before any lock below): the ATTACH need not scan again.
      const bounded = quoteIdent(`${partition}_bound`);
      await tx.query(`ALTER TABLE ${table} ADD CONSTRAINT ${bounded} CHECK (${within})`);
      let moved = 0;
      if (fallback) {
        // The key's index first, so that a late point the archive already holds is kept once.
        if (key) await tx.query(`CREATE UNIQUE INDEX ON ${table} (${key})`);
        // From here to the commit no point reaches DEFAULT (processing waits; reads do not): one
        // committed between the move and the ATTACH would make PostgreSQL refuse the ATTACH
        // ("updated partition constraint for default partition would be violated by some row").
        await tx.query(`LOCK TABLE ${quoteIdent(fallback.name)} IN SHARE ROW EXCLUSIVE MODE`);
        const late = await tx.query(
          `WITH late AS (DELETE FROM ${quoteIdent(fallback.name)} WHERE ${within} RETURNING *)
           INSERT INTO ${table} SELECT * FROM late ${key ? 'ON CONFLICT DO NOTHING' : ''}`,
        );
        moved = late.rowCount ?? 0;
      }
      await tx.query(`ALTER TABLE ${parent} ATTACH PARTITION ${table} FOR VALUES FROM (${from}) TO (${to})`);
      await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT ${bounded}`);
      await recordRestored(tx, partition);
      return { partition, rows: restored, movedFromDefault: moved };
    });
    log.info(result, `restored ${partition}: ${result.rows} rows from ${store.name}, ${result.movedFromDefault} later points moved in from the DEFAULT partition`);
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The column `parent` is range-partitioned by. */
async function rangeColumn(pool: pg.Pool, parent: string): Promise<string> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = to_regclass($1)`,
    [parent],
  );
  if (!rows[0]) throw new Error(`${parent} is not a partitioned table`);
  return rows[0].name;
}
