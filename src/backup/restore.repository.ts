/** The writes of `dcs restore` (restore.ts): small tables and bundles, each idempotent. */
import { derivedReceipt } from '../crypto/derived-receipt.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { restoreStatement, type SmallTable } from './small-tables.ts';

/** Whether the database already holds study data (a restore then needs --merge). */
export async function holdsStudyData(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query('SELECT EXISTS (SELECT 1 FROM bundles) OR EXISTS (SELECT 1 FROM data_points) AS held');
  return rows[0].held;
}

export async function insertTableRows(pool: Pool, table: SmallTable, rows: string[]): Promise<number> {
  const { rowCount } = await pool.query(restoreStatement(table), [`[${rows.join(',')}]`]);
  return rowCount ?? 0;
}

/** A bundle as a backup line holds it (run-backup.ts, backup-runs.repository.ts bundleLines). */
export interface BackedUpBundle {
  id: number;
  received_at: string;
  endpoint: string;
  transport: string;
  content_type: string | null;
  compression: string;
  compressed_at_rest: boolean;
  encrypted: boolean;
  nonce: string | null;
  body: string;
  identifier: string | null;
  receipt: string | null;
  points_recorded_at: string | null;
  files: { field_name: string; filename: string | null; content_type: string | null; size: number; content: string }[] | null;
}

/**
 * A bundle stored before receipts existed gets one derived from its receipt time and body, so the
 * same restore run twice matches it by receipt like any other.
 */
function receiptOf(bundle: BackedUpBundle, body: Buffer): string {
  if (bundle.receipt) return bundle.receipt;
  return derivedReceipt(`restore\n${bundle.received_at}\n`, body);
}

/**
 * Inserts the bundles not already here, as pending (processing rebuilds their points): matched by
 * receipt time and receipt (the unique key: a backup keeps both to the microsecond), or by receipt
 * time and identical body (a bundle this database holds without a receipt).
 * Their points keep the `recorded` time they had. Returns how many were new. Run it in a
 * transaction: processing must not claim a bundle before its files are in.
 */
export async function insertBundles(pool: PoolClient, bundles: BackedUpBundle[]): Promise<number> {
  const bodies = bundles.map((b) => Buffer.from(b.body, 'base64'));
  const receipts = bundles.map((b, i) => receiptOf(b, bodies[i]));
  const { rows } = await pool.query(
    `INSERT INTO bundles (receipt, received_at, endpoint, transport, content_type, compression, compressed_at_rest, encrypted, nonce, body, identifier, points_recorded_at)
     SELECT r.receipt, r.received_at, r.endpoint, r.transport, r.content_type, r.compression, r.compressed_at_rest, r.encrypted, r.nonce, r.body, r.identifier, r.points_recorded_at
     FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::boolean[], $9::bytea[], $10::bytea[], $11::text[], $12::timestamptz[])
       WITH ORDINALITY AS r (receipt, received_at, endpoint, transport, content_type, compression, compressed_at_rest, encrypted, nonce, body, identifier, points_recorded_at, i)
     WHERE NOT EXISTS (SELECT 1 FROM bundles b WHERE b.received_at = r.received_at AND b.body = r.body)
     ORDER BY r.i
     ON CONFLICT (received_at, receipt) DO NOTHING
     RETURNING id, receipt, received_at::text`,
    [
      receipts, bundles.map((b) => b.received_at), bundles.map((b) => b.endpoint), bundles.map((b) => b.transport),
      bundles.map((b) => b.content_type), bundles.map((b) => b.compression), bundles.map((b) => b.compressed_at_rest),
      bundles.map((b) => b.encrypted), bundles.map((b) => (b.nonce === null ? null : Buffer.from(b.nonce, 'base64'))), bodies,
      bundles.map((b) => b.identifier), bundles.map((b) => b.points_recorded_at),
    ],
  );
  const byReceipt = new Map(receipts.map((r, i) => [r, bundles[i]]));
  for (const row of rows) {
    for (const file of byReceipt.get(row.receipt)?.files ?? []) {
      await pool.query(
        'INSERT INTO bundle_files (bundle_id, bundle_received_at, field_name, filename, content_type, size, content) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [row.id, row.received_at, file.field_name, file.filename, file.content_type, file.size, Buffer.from(file.content, 'base64')],
      );
    }
  }
  return rows.length;
}
