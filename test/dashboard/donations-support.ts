/**
 * Donation requests and files written straight into the tables (migrations 0021, 0022) in the
 * states the donation flow and the worker leave them in, for the staff pages' tests.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from '../../src/db/database.ts';

/** Settings under which uploads are open (each a random 32-byte key; the pages only check they are set). */
export function openDonationSettings(): Record<string, string> {
  const key = () => randomBytes(32).toString('base64');
  return { PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: key(), DONATION_PUBLIC_KEY: key(), DONATION_HASH_KEY: key() };
}

export async function insertRequest(pool: Pool, identifier: string, sources: string[], requestedAt = new Date()): Promise<number> {
  const { rows } = await pool.query('INSERT INTO donation_requests (identifier, requested_at) VALUES ($1, $2) RETURNING id::int', [identifier, requestedAt]);
  for (const source of sources) await pool.query('INSERT INTO donation_request_sources (request_id, source) VALUES ($1, $2)', [rows[0].id, source]);
  return rows[0].id;
}

export interface FileFields {
  source?: string;
  name?: string;
  size?: number;
  state: string;
  uploadedAt?: Date;
  stateChangedAt?: Date;
  participantMessage?: string;
  staffReason?: string;
  rowsExtracted?: number;
  rowsConfirmed?: number;
  points?: number;
  attempts?: number;
  /** sealed chunks still stored (placeholder bytes: the pages never open them) */
  chunks?: number;
}

export async function insertFile(pool: Pool, requestId: number, file: FileFields): Promise<number> {
  const uploadedAt = file.uploadedAt ?? new Date();
  const { rows } = await pool.query(
    `INSERT INTO donation_files (request_id, source, name, size, state, uploaded_at, state_changed_at, participant_message, staff_reason,
                                 rows_extracted, rows_confirmed, points, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id::int`,
    [requestId, file.source ?? 'amazon', file.name ?? 'Retail.OrderHistory.1.csv', file.size ?? 48_213, file.state, uploadedAt, file.stateChangedAt ?? uploadedAt,
      file.participantMessage ?? null, file.staffReason ?? null, file.rowsExtracted ?? null, file.rowsConfirmed ?? null, file.points ?? null, file.attempts ?? 0],
  );
  for (let n = 0; n < (file.chunks ?? 0); n++) await pool.query('INSERT INTO donation_file_chunks (file_id, n, sealed) VALUES ($1, $2, $3)', [rows[0].id, n, randomBytes(64)]);
  return rows[0].id;
}

export const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
