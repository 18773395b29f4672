/** What the participant's pages read and change: their request through its upload link, their files. */
import type { Pool, PoolClient } from '../db/database.ts';
import { UPLOAD_LINK_DAYS, type UploadLink } from './upload-link.ts';

type Db = Pool | PoolClient;

export interface LinkedRequest {
  id: number;
  identifier: string;
  requestedAt: Date;
  reviewSecretWrapped: Buffer;
  /** the identifier is on the erased list (the participant withdrew): the link must store nothing */
  erased: boolean;
  /** the requested sources, in the staff's order */
  sources: { identifier: string; name: string; instructions: string }[];
}

export interface ParticipantFile {
  id: number;
  source: string;
  name: string;
  size: number;
  uploadedAt: Date;
  state: string;
  participantMessage: string | null;
  rowsExtracted: number | null;
  rowsConfirmed: number | null;
}

/**
 * Gives the request a new upload link: the old link stops working, and files still waiting for
 * review go back to the worker, to be extracted again for the new link's review key (as a fresh
 * import: renewing a link several times must not use up a file's attempts).
 */
export async function issueUploadLink(db: PoolClient, identifier: string, link: UploadLink): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE donation_requests SET upload_token_sha256 = $2, token_issued_at = now(), review_public_key = $3, review_secret_wrapped = $4
     WHERE identifier = $1 RETURNING id`,
    [identifier, link.tokenSha256, link.reviewPublicKey, link.reviewSecretWrapped],
  );
  if (rows.length === 0) return false;
  await db.query(
    `UPDATE donation_files SET state = 'received', extraction = NULL, rows_extracted = NULL, attempts = 0, state_changed_at = now()
     WHERE request_id = $1 AND state = 'awaiting-confirmation'`,
    [rows[0].id],
  );
  return true;
}

/**
 * The request whose current link has this token hash, while the link is young enough; else
 * undefined. An erasure deletes the request with its link, but the identifier goes on the erased
 * list first (and stays there if the deletions fail): `erased` says so meanwhile.
 */
export async function requestByToken(db: Db, tokenSha256: Buffer): Promise<LinkedRequest | undefined> {
  const { rows } = await db.query(
    `SELECT r.id::int, r.identifier, r.requested_at, r.review_secret_wrapped,
            EXISTS (SELECT 1 FROM erased_sources e WHERE e.identifier = r.identifier) AS erased,
            coalesce(json_agg(json_build_object('identifier', s.identifier, 'name', s.name, 'instructions', s.instructions)
                              ORDER BY s.priority, s.identifier) FILTER (WHERE s.identifier IS NOT NULL), '[]') AS sources
     FROM donation_requests r
     LEFT JOIN donation_request_sources rs ON rs.request_id = r.id
     LEFT JOIN donation_sources s ON s.identifier = rs.source
     WHERE r.upload_token_sha256 = $1 AND r.token_issued_at > now() - make_interval(days => $2)
     GROUP BY r.id`,
    [tokenSha256, UPLOAD_LINK_DAYS],
  );
  const row = rows[0];
  return row && { id: row.id, identifier: row.identifier, requestedAt: row.requested_at, reviewSecretWrapped: row.review_secret_wrapped, erased: row.erased, sources: row.sources };
}

/** A donation source's name and instructions as staff set them. */
export async function donationSource(db: Db, identifier: string): Promise<{ identifier: string; name: string; instructions: string } | undefined> {
  const { rows } = await db.query('SELECT identifier, name, instructions FROM donation_sources WHERE identifier = $1', [identifier]);
  return rows[0];
}

/** The request's files, newest first. */
export async function filesOfRequest(db: Db, requestId: number): Promise<ParticipantFile[]> {
  const { rows } = await db.query(
    `SELECT id::int, source, name, size::float8 AS size, uploaded_at AS "uploadedAt", state,
            participant_message AS "participantMessage", rows_extracted AS "rowsExtracted", rows_confirmed AS "rowsConfirmed"
     FROM donation_files WHERE request_id = $1 AND state <> 'receiving' ORDER BY uploaded_at DESC, id DESC LIMIT 200`,
    [requestId],
  );
  return rows;
}

/** A file of this request waiting for the participant's review, with its sealed extraction. */
export async function fileForReview(db: Db, requestId: number, fileId: number, lock = false): Promise<{ source: string; name: string; extraction: Buffer } | undefined> {
  const { rows } = await db.query(
    `SELECT source, name, extraction FROM donation_files
     WHERE id = $1 AND request_id = $2 AND state = 'awaiting-confirmation' AND extraction IS NOT NULL${lock ? ' FOR UPDATE' : ''}`,
    [fileId, requestId],
  );
  return rows[0];
}

/** The confirmed file is imported: its extraction goes, and its bytes unless the study keeps them. */
export async function markImported(db: PoolClient, fileId: number, counts: { rows: number; points: number; bundleId: number }, keepFile: boolean): Promise<void> {
  await db.query(
    `UPDATE donation_files SET state = 'imported', state_changed_at = now(), extraction = NULL,
            rows_confirmed = $2, points = $3, bundle_id = $4
     WHERE id = $1`,
    [fileId, counts.rows, counts.points, counts.bundleId],
  );
  if (!keepFile) await db.query('DELETE FROM donation_file_chunks WHERE file_id = $1', [fileId]);
}

/** The participant sent no row of the file: nothing is imported, and the file is gone. */
export async function markDiscarded(db: PoolClient, fileId: number): Promise<void> {
  await db.query(
    `UPDATE donation_files SET state = 'refused', state_changed_at = now(), extraction = NULL, rows_confirmed = 0,
            participant_message = 'You chose not to send any row of this file, so nothing from it was stored.',
            staff_reason = 'the participant deselected every row'
     WHERE id = $1`,
    [fileId],
  );
  await db.query('DELETE FROM donation_file_chunks WHERE file_id = $1', [fileId]);
}
