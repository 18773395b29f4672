/** Donated files as they stream in: a row in `receiving`, its sealed chunks, then `received` (or refused, or gone). */
import type { Pool } from '../db/database.ts';

export async function createReceivingFile(db: Pool, requestId: number, source: string, name: string): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO donation_files (request_id, source, name, state) VALUES ($1, $2, $3, 'receiving') RETURNING id::int`,
    [requestId, source, name],
  );
  return rows[0].id;
}

export async function appendChunk(db: Pool, fileId: number, n: number, sealed: Uint8Array): Promise<void> {
  await db.query('INSERT INTO donation_file_chunks (file_id, n, sealed) VALUES ($1, $2, $3)', [fileId, n, sealed]);
}

/** Every byte is stored: the worker may import it. */
export async function finishReceiving(db: Pool, fileId: number, size: number, sha256: Buffer): Promise<void> {
  await db.query(
    `UPDATE donation_files SET state = 'received', size = $2, sha256 = $3, state_changed_at = now() WHERE id = $1 AND state = 'receiving'`,
    [fileId, size, sha256],
  );
}

/** Refused while it streamed in (too large, wrong type): the row stays with its reasons, the bytes go. */
export async function refuseReceiving(db: Pool, fileId: number, size: number, participantMessage: string, staffReason: string): Promise<void> {
  await db.query(
    `UPDATE donation_files SET state = 'refused', size = $2, participant_message = $3, staff_reason = $4, state_changed_at = now()
     WHERE id = $1`,
    [fileId, size, participantMessage, staffReason],
  );
  await db.query('DELETE FROM donation_file_chunks WHERE file_id = $1', [fileId]);
}

/** An upload cut short by the browser: nothing of it is kept. */
export async function dropReceiving(db: Pool, fileIds: readonly number[]): Promise<void> {
  if (fileIds.length > 0) await db.query(`DELETE FROM donation_files WHERE id = ANY($1::bigint[]) AND state = 'receiving'`, [fileIds]);
}
