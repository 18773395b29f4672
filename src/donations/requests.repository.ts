/** Donation requests (migration 0021): opened by the enrollment server's signed links, read by its polls. */
import type { Pool, PoolClient } from '../db/database.ts';
import type { AutoRequest } from './auto-token.ts';

/** The Webmunk final upload: due this many days after the request (the enrollment server's WEBMUNK_DATA_FOLLOWUP_DAYS). */
export const FINAL_UPLOAD_DAYS = 28;

/**
 * Opens the request a signed link carries, once: the same link again (the enrollment server's
 * server-side GET, then the participant's browser) changes nothing but what the link itself says
 * (its e-mail and extras). Sources are those the link names that exist and are enabled.
 * Undefined, and nothing opened or changed, while the identifier is on the erased list (the
 * participant withdrew: docs/data-quality.md, "Erasure"); the list is read in the same statement
 * as ingest's insert reads it, so an erasure committed before the statement is always seen.
 */
export async function openRequest(db: Pool | PoolClient, request: AutoRequest, enabledSources: readonly string[]): Promise<number | undefined> {
  const { rows } = await db.query(
    `WITH admitted AS (
       SELECT NOT EXISTS (SELECT 1 FROM erased_sources WHERE identifier = $1) AS admitted
     ),
     opened AS (
       INSERT INTO donation_requests (identifier, email, extras) SELECT $1, $2, $3 FROM admitted WHERE admitted
       ON CONFLICT (identifier) DO UPDATE SET email = excluded.email, extras = excluded.extras
       WHERE donation_requests.email IS DISTINCT FROM excluded.email OR donation_requests.extras IS DISTINCT FROM excluded.extras
       RETURNING id
     )
     SELECT id::int FROM opened
     UNION ALL SELECT id::int FROM donation_requests, admitted WHERE identifier = $1 AND admitted LIMIT 1`,
    [request.identifier, request.email, JSON.stringify(request.extras)],
  );
  if (rows.length === 0) return undefined;
  const id: number = rows[0].id;
  await db.query(
    `INSERT INTO donation_request_sources (request_id, source)
     SELECT $1, identifier FROM donation_sources WHERE identifier = ANY($2::text[]) AND identifier = ANY($3::text[])
     ON CONFLICT DO NOTHING`,
    [id, request.sources, enabledSources],
  );
  return id;
}

/**
 * The participant's imported files, oldest first, as `uploads/<id>.json` lists them: `uploaded` as
 * Python's isoformat() of a UTC time prints it (microseconds only when not zero, `+00:00`).
 */
export async function importedUploads(db: Pool, identifier: string): Promise<{ source: string; uploaded: string }[]> {
  const { rows } = await db.query(
    `SELECT f.source, regexp_replace(to_char(f.uploaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.000000$', '') || '+00:00' AS uploaded
     FROM donation_files f JOIN donation_requests r ON r.id = f.request_id
     WHERE r.identifier = $1 AND f.state = 'imported' ORDER BY f.uploaded_at, f.id`,
    [identifier],
  );
  return rows;
}

/**
 * What the participant still has to upload (`pending/<id>.json`): the requested sources without a
 * file that counts (a refused or expired file does not), and `amazon` again while no file came on
 * or after the final-upload day (the original required more than one file first: a bug).
 */
export async function pendingSources(db: Pool, identifier: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT s.source,
            count(f.id) AS files,
            count(f.id) FILTER (WHERE f.uploaded_at >= r.requested_at + make_interval(days => $2)) AS final_files
     FROM donation_requests r JOIN donation_request_sources s ON s.request_id = r.id
     LEFT JOIN donation_files f ON f.request_id = r.id AND f.source = s.source AND f.state NOT IN ('receiving', 'refused', 'expired')
     WHERE r.identifier = $1 GROUP BY s.source ORDER BY s.source`,
    [identifier, FINAL_UPLOAD_DAYS],
  );
  const pending = rows.filter((r) => Number(r.files) === 0).map((r) => r.source as string);
  const amazon = rows.find((r) => r.source === 'amazon');
  if (amazon && Number(amazon.files) > 0 && Number(amazon.final_files) === 0) pending.push('amazon');
  return pending;
}
