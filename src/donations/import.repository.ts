/**
 * The `donations` job's queries (donations.job.ts): claiming received files, reading their sealed
 * chunks, storing an extraction or a refusal, and the time-outs of the states the job owns
 * (docs/donations.md, "The import job and retention"). The job opens the transactions.
 */
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

/** After this many claims a file that keeps failing (or keeps killing its worker) is refused. */
export const MAX_ATTEMPTS = 3;
/** A file `extracting` this long belongs to a worker that died: it goes back to `received`. */
export const STALE_EXTRACTING_MINUTES = 15;

export interface ClaimedFile {
  id: number;
  requestId: number;
  source: string;
  /** As the participant's browser named it: for the importer only, never logged. */
  name: string;
  size: number;
  sha256: Buffer | null;
  /** This claim's number (1 for the first): the file's row is only written back while it still holds it. */
  attempts: number;
}

/**
 * Claims the oldest received file of `sources` (not one of `skip`) for this worker: `extracting`,
 * one attempt more. SKIP LOCKED: workers running at once each get another file.
 */
export async function claimReceivedFile(db: Db, sources: readonly string[], skip: readonly number[]): Promise<ClaimedFile | undefined> {
  const { rows } = await db.query(
    `UPDATE donation_files f SET state = 'extracting', attempts = f.attempts + 1, state_changed_at = now()
     FROM (SELECT id FROM donation_files
           WHERE state = 'received' AND source = ANY($1::text[]) AND id <> ALL($2::bigint[])
           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) claimed
     WHERE f.id = claimed.id
     RETURNING f.id::int, f.request_id::int AS "requestId", f.source, f.name, f.size::float8 AS size, f.sha256, f.attempts`,
    [sources, skip],
  );
  return rows[0];
}

/** How many files wait in `received`, per source. */
export async function receivedBySource(db: Db): Promise<Map<string, number>> {
  const { rows } = await db.query(`SELECT source, count(*)::int AS n FROM donation_files WHERE state = 'received' GROUP BY source`);
  return new Map(rows.map((row) => [row.source as string, row.n as number]));
}

/** Up to `limit` sealed chunks of a file from number `from` on, in order. */
export async function readChunks(db: Db, fileId: number, from: number, limit: number): Promise<{ n: number; sealed: Buffer }[]> {
  const { rows } = await db.query(
    `SELECT n, sealed FROM donation_file_chunks WHERE file_id = $1 AND n >= $2 ORDER BY n LIMIT $3`,
    [fileId, from, limit],
  );
  return rows;
}

/**
 * The request's review public key, locked (FOR SHARE) until the transaction ends, so that a new
 * upload link, which changes the key, waits for the extraction sealed to the old one and then sends
 * it back to be extracted again.
 */
export async function lockReviewKey(client: PoolClient, requestId: number): Promise<Buffer | null> {
  const { rows } = await client.query(`SELECT review_public_key FROM donation_requests WHERE id = $1 FOR SHARE`, [requestId]);
  return rows[0]?.review_public_key ?? null;
}

/** The claimed file → awaiting-confirmation; false when it no longer holds the claim (reset as stale and claimed again). */
export async function storeExtraction(client: PoolClient, file: ClaimedFile, sealed: Buffer, rows: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE donation_files SET state = 'awaiting-confirmation', extraction = $3, rows_extracted = $4, state_changed_at = now(),
            participant_message = NULL, staff_reason = NULL
     WHERE id = $1 AND state = 'extracting' AND attempts = $2`,
    [file.id, file.attempts, sealed, rows],
  );
  return rowCount === 1;
}

/** The claimed file → refused with both messages (its chunks stay for DONATION_REVIEW_HOURS: staff may re-run it). */
export async function refuseFile(db: Db, file: ClaimedFile, participantMessage: string, staffReason: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE donation_files SET state = 'refused', participant_message = $3, staff_reason = $4, extraction = NULL, state_changed_at = now()
     WHERE id = $1 AND state = 'extracting' AND attempts = $2`,
    [file.id, file.attempts, participantMessage, staffReason],
  );
  return rowCount === 1;
}

/** The claimed file → received again, for a later attempt; the error is kept as the staff reason meanwhile. */
export async function releaseFile(db: Db, file: ClaimedFile, staffReason: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE donation_files SET state = 'received', staff_reason = $3, state_changed_at = now()
     WHERE id = $1 AND state = 'extracting' AND attempts = $2`,
    [file.id, file.attempts, staffReason],
  );
  return rowCount === 1;
}

/**
 * Files left `extracting` by a worker that stopped: back to `received`, or refused once they had
 * their MAX_ATTEMPTS (a file that kills its worker every time must not do so for ever).
 */
export async function resetStaleExtracting(db: Db, participantMessage: string): Promise<{ received: number; refused: number }> {
  const { rows } = await db.query(
    `UPDATE donation_files
     SET state = CASE WHEN attempts >= $1 THEN 'refused' ELSE 'received' END,
         participant_message = CASE WHEN attempts >= $1 THEN $3 END,
         staff_reason = 'the worker importing it stopped (' || attempts || ' time' || CASE WHEN attempts = 1 THEN '' ELSE 's' END
                        || ', each over ' || $2::int || ' minutes): out of memory, killed or restarted?',
         state_changed_at = now()
     WHERE state = 'extracting' AND state_changed_at < now() - make_interval(mins => $2)
     RETURNING state`,
    [MAX_ATTEMPTS, STALE_EXTRACTING_MINUTES, participantMessage],
  );
  return { received: rows.filter((r) => r.state === 'received').length, refused: rows.filter((r) => r.state === 'refused').length };
}

/** Extractions not confirmed within `hours` → expired (the extraction deleted; chunks go with the retention step). */
export async function expireUnconfirmed(db: Db, hours: number, participantMessage: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE donation_files SET state = 'expired', extraction = NULL, participant_message = $2,
            staff_reason = 'not confirmed by the participant within ' || $1::int || ' hours (DONATION_REVIEW_HOURS)', state_changed_at = now()
     WHERE state = 'awaiting-confirmation' AND state_changed_at < now() - make_interval(hours => $1)`,
    [hours, participantMessage],
  );
  return rowCount ?? 0;
}

/**
 * Deletes the sealed bytes no longer needed (unless DONATION_KEEP_FILES): of imported files (the
 * confirmation deletes them too; this is the safety net), of refused and expired files `hours`
 * after they got there. The rows stay, with their counts and reasons.
 */
export async function deleteSpentChunks(db: Db, hours: number): Promise<{ files: number; chunks: number }> {
  const { rows } = await db.query(
    `WITH spent AS (
       DELETE FROM donation_file_chunks c USING donation_files f
       WHERE c.file_id = f.id
         AND (f.state = 'imported' OR (f.state IN ('refused', 'expired') AND f.state_changed_at < now() - make_interval(hours => $1)))
       RETURNING c.file_id
     )
     SELECT count(DISTINCT file_id)::int AS files, count(*)::int AS chunks FROM spent`,
    [hours],
  );
  return rows[0];
}

/** Uploads left `receiving` for `hours` (the web process died mid-upload): row and chunks deleted. */
export async function deleteAbandonedUploads(db: Db, hours: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM donation_files WHERE state = 'receiving' AND state_changed_at < now() - make_interval(hours => $1)`,
    [hours],
  );
  return rowCount ?? 0;
}
