/**
 * What the Donations page, the source page's donations panel and System health read of the
 * donation flow (migrations 0021, 0022), and the staff's one change to a file: re-run its import.
 * Never a file's bytes or its extraction: both are sealed to keys the web process does not hold.
 */
import type { Pool } from '../db/database.ts';

/** A donated file's states, in the order a file goes through them (docs/donations.md). */
export const DONATION_STATES = ['receiving', 'received', 'extracting', 'awaiting-confirmation', 'imported', 'refused', 'expired'] as const;
export type DonationState = (typeof DONATION_STATES)[number];

export interface DonationCounts {
  requests: number;
  /** per donation source (every source, requested or not): requests naming it and files per state */
  sources: Array<{ source: string; name: string; requests: number; files: Partial<Record<DonationState, number>> }>;
}

export async function countDonations(db: Pool): Promise<DonationCounts> {
  const [total, requested, files] = await Promise.all([
    db.query('SELECT count(*)::int AS n FROM donation_requests'),
    db.query(
      `SELECT s.identifier, s.name, (SELECT count(*)::int FROM donation_request_sources r WHERE r.source = s.identifier) AS requests
       FROM donation_sources s ORDER BY s.priority, s.identifier`,
    ),
    db.query('SELECT source, state, count(*)::int AS n FROM donation_files GROUP BY source, state'),
  ]);
  const sources = requested.rows.map((r) => ({ source: r.identifier as string, name: r.name as string, requests: r.requests as number, files: {} as Partial<Record<DonationState, number>> }));
  for (const f of files.rows) {
    const row = sources.find((s) => s.source === f.source);
    if (row) row.files[f.state as DonationState] = f.n;
  }
  return { requests: total.rows[0].n, sources };
}

export interface DonationFile {
  id: number;
  source: string;
  name: string;
  size: number;
  uploadedAt: Date;
  state: DonationState;
  stateChangedAt: Date;
  rowsExtracted: number | null;
  rowsConfirmed: number | null;
  points: number | null;
  participantMessage: string | null;
  staffReason: string | null;
  attempts: number;
  /** whether its sealed bytes are still stored (a refused file's, for a re-run) */
  hasChunks: boolean;
}

export interface DonationRequest {
  id: number;
  identifier: string;
  requestedAt: Date;
  /** the requested sources' names */
  sources: string[];
  /** whether the participant is a source of the dashboard (has a source page) */
  knownSource: boolean;
  /** its files (only those in the filter's state, when filtered), newest first */
  files: DonationFile[];
}

export interface RequestFilter {
  /** a file state, or 'none': requests without any file */
  state?: DonationState | 'none';
  identifier?: string;
}

// $1 identifier, $2 state: the requests that match, with their latest activity for the order.
const MATCHING = `
  SELECT r.id, r.identifier, r.requested_at, greatest(r.requested_at, max(f.uploaded_at)) AS latest
  FROM donation_requests r LEFT JOIN donation_files f ON f.request_id = r.id
  WHERE ($1::text IS NULL OR r.identifier = $1)
  GROUP BY r.id
  HAVING $2::text IS NULL OR ($2 = 'none' AND count(f.id) = 0) OR bool_or(f.state = $2)`;

/** How many requests the filter matches. */
export async function countDonationRequests(db: Pool, filter: RequestFilter): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM (${MATCHING}) m`, [filter.identifier ?? null, filter.state ?? null]);
  return rows[0].n;
}

/** A page of requests, newest activity first (the latest upload, else the request itself). */
export async function listDonationRequests(db: Pool, filter: RequestFilter, limit: number, offset: number): Promise<DonationRequest[]> {
  const { rows } = await db.query(
    `SELECT m.id::int AS id, m.identifier, m.requested_at,
            EXISTS (SELECT 1 FROM data_sources d WHERE d.source = m.identifier) AS known_source,
            coalesce((SELECT array_agg(s.name ORDER BY s.priority, s.identifier) FROM donation_request_sources rs
                      JOIN donation_sources s ON s.identifier = rs.source WHERE rs.request_id = m.id), '{}') AS sources
     FROM (${MATCHING}) m ORDER BY m.latest DESC, m.id DESC LIMIT $3 OFFSET $4`,
    [filter.identifier ?? null, filter.state ?? null, limit, offset],
  );
  const files = await listFiles(db, rows.map((r) => r.id), filter.state);
  return rows.map((r) => ({
    id: r.id, identifier: r.identifier, requestedAt: r.requested_at, sources: r.sources, knownSource: r.known_source,
    files: files.filter((f) => f.requestId === r.id).map(({ requestId: _, ...file }) => file),
  }));
}

async function listFiles(db: Pool, requestIds: number[], state: RequestFilter['state']): Promise<Array<DonationFile & { requestId: number }>> {
  if (requestIds.length === 0 || state === 'none') return [];
  const { rows } = await db.query(
    `SELECT f.id::int AS id, f.request_id::int AS request_id, f.source, f.name, f.size::float8 AS size, f.uploaded_at, f.state, f.state_changed_at,
            f.rows_extracted, f.rows_confirmed, f.points, f.participant_message, f.staff_reason, f.attempts,
            EXISTS (SELECT 1 FROM donation_file_chunks c WHERE c.file_id = f.id) AS has_chunks
     FROM donation_files f WHERE f.request_id = ANY($1::bigint[]) AND ($2::text IS NULL OR f.state = $2)
     ORDER BY f.uploaded_at DESC, f.id DESC`,
    [requestIds, state ?? null],
  );
  return rows.map((r) => ({
    id: r.id, requestId: r.request_id, source: r.source, name: r.name, size: r.size, uploadedAt: r.uploaded_at, state: r.state,
    stateChangedAt: r.state_changed_at, rowsExtracted: r.rows_extracted, rowsConfirmed: r.rows_confirmed, points: r.points,
    participantMessage: r.participant_message, staffReason: r.staff_reason, attempts: r.attempts, hasChunks: r.has_chunks,
  }));
}

/**
 * Staff's "re-run import": a refused file whose sealed bytes are still stored goes back to
 * `received`, messages and attempts cleared, for the worker's next `donations` run. Returns the
 * participant's identifier, or undefined when the file is not refused or its bytes are gone.
 */
export async function rerunDonationImport(db: Pool, fileId: number): Promise<string | undefined> {
  const { rows } = await db.query(
    `UPDATE donation_files f SET state = 'received', participant_message = NULL, staff_reason = NULL, attempts = 0, state_changed_at = now()
     FROM donation_requests r
     WHERE f.id = $1 AND r.id = f.request_id AND f.state = 'refused' AND EXISTS (SELECT 1 FROM donation_file_chunks c WHERE c.file_id = f.id)
     RETURNING r.identifier`,
    [fileId],
  );
  return rows[0]?.identifier;
}

export interface DonationHealth {
  /** received or extracting: waiting for the worker */
  waiting: number;
  oldestWaitingUploadedAt: Date | null;
  awaitingConfirmation: number;
  refusedLastWeek: number;
}

export async function readDonationHealth(db: Pool): Promise<DonationHealth> {
  const { rows: [r] } = await db.query(
    `SELECT count(*) FILTER (WHERE state IN ('received', 'extracting'))::int AS waiting,
            min(uploaded_at) FILTER (WHERE state IN ('received', 'extracting')) AS oldest,
            count(*) FILTER (WHERE state = 'awaiting-confirmation')::int AS awaiting,
            count(*) FILTER (WHERE state = 'refused' AND state_changed_at > now() - interval '7 days')::int AS refused
     FROM donation_files WHERE state IN ('received', 'extracting', 'awaiting-confirmation', 'refused')`,
  );
  return { waiting: r.waiting, oldestWaitingUploadedAt: r.oldest, awaitingConfirmation: r.awaiting, refusedLastWeek: r.refused };
}
