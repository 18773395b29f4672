/** Writes uploads to `bundles` (and their files to `bundle_files`). */
import { DcsError } from '../errors.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import type { BundlesRow } from '../db/rows.ts';
import type { UploadedFile } from './form.ts';

export type Transport = 'create' | 'json' | 'form' | 'multipart' | 'put';
export type Endpoint = 'bundle' | 'point';

export interface NewBundle {
  endpoint: Endpoint;
  transport: Transport;
  contentType: string | undefined;
  compression: string;
  encrypted: boolean;
  nonce: Buffer | undefined;
  body: Buffer;
  identifier: string | undefined;
  files: UploadedFile[];
  /** `body` was gzipped here for storage (compress-at-rest.ts); `compression` is then 'gzip'. */
  compressedAtRest?: boolean;
}

/** One upload as it is kept: what the `bundles` row holds, whether it goes there now or through the spool. */
export interface ReceivedUpload {
  /** a random UUID given on arrival: the same upload is inserted once, however often it is tried */
  receipt: string;
  receivedAt: Date;
  bundle: NewBundle;
  /** set for an upload that could not be decoded: it is stored errored, with its whole request body */
  error?: string;
}

/** What became of an upload given to insertUpload. */
export type Inserted =
  /** the new bundle's id */
  | number
  /** a bundle with this receipt is already stored */
  | 'stored-before'
  /** an errored upload beyond ERRORED_UPLOADS_MAX_BYTES: not kept, counted */
  | 'over-quota'
  /** from an identifier on the erased list: nothing stored */
  | 'erased';

/** The bundle an undecodable upload is stored as: the whole request body, nothing decoded. */
export function erroredBundle(upload: { endpoint: Endpoint; transport: Transport; contentType: string | undefined; identifier: string | undefined; rawBody: Buffer }): NewBundle {
  return { ...upload, compression: 'none', encrypted: false, nonce: undefined, body: upload.rawBody, files: [] };
}

// Nothing is stored for an identifier on the erased list (data-quality/erasure.ts). The check is
// in the insert itself, so an erasure that waits for the inserts in flight after listing the
// identifier leaves no bundle of it behind. The receipt is unique with the arrival time
// (bundles is partitioned by it, migration 0034): an upload tried again, from the spool after an
// insert whose outcome was unknown, carries the same receivedAt (spool-file.ts), so it conflicts.
const INSERT = `INSERT INTO bundles (receipt, received_at, endpoint, transport, content_type, compression, encrypted, nonce, body, identifier,
                                     compressed_at_rest, status, error, processed_at)
                SELECT $1::uuid, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::boolean, $8::bytea, $9::bytea, $10::text,
                       $11::boolean, $12::text, $13::text, CASE WHEN $12::text = 'errored' THEN now() END
                 WHERE $10::text IS NULL OR NOT EXISTS (SELECT 1 FROM erased_sources WHERE identifier = $10::text)
                ON CONFLICT (received_at, receipt) DO NOTHING
                RETURNING id`;

/**
 * How long an upload's insert may take before it goes to the spool instead: a database that
 * accepted the connection and then stopped answering (a network partition, a stalled server)
 * must not hold the client. Its outcome is then unknown, which the receipt makes harmless.
 */
const INSERT_TIMEOUT_MS = 15_000;

/**
 * Makes room for an errored upload of `bytes` within `maxBytes` in all; when there is none, counts
 * it as refused and returns false. The oldest errored uploads are the ones kept.
 */
async function admitErrored(client: PoolClient, bytes: number, maxBytes: number): Promise<boolean> {
  const { rowCount } = await client.query('UPDATE errored_upload_totals SET stored_bytes = stored_bytes + $1 WHERE stored_bytes + $1 <= $2', [bytes, maxBytes]);
  if (rowCount === 1) return true;
  await client.query(
    'UPDATE errored_upload_totals SET refused_uploads = refused_uploads + 1, refused_bytes = refused_bytes + $1, last_refused_at = now()',
    [bytes],
  );
  return false;
}

/**
 * Inserts `upload` on `client`, inside the caller's transaction when it has files or is errored
 * (an errored upload is kept only within `erroredMaxBytes`, ERRORED_UPLOADS_MAX_BYTES).
 */
export async function insertUpload(client: PoolClient, upload: ReceivedUpload, erroredMaxBytes: number): Promise<Inserted> {
  const { bundle } = upload;
  const errored = upload.error !== undefined;
  if (errored && !(await admitErrored(client, bundle.body.length, erroredMaxBytes))) return 'over-quota';
  const { rows } = await client.query<Pick<BundlesRow, 'id'>>({ text: INSERT, query_timeout: INSERT_TIMEOUT_MS } as { text: string }, [
    upload.receipt, upload.receivedAt, bundle.endpoint, bundle.transport, bundle.contentType ?? null, bundle.compression, bundle.encrypted,
    bundle.nonce ?? null, bundle.body, bundle.identifier ?? null, bundle.compressedAtRest ?? false,
    upload.error === undefined ? 'pending' : 'errored', upload.error ?? null,
  ]);
  const id: number | undefined = rows[0]?.id;
  if (id === undefined) {
    if (errored) await client.query('UPDATE errored_upload_totals SET stored_bytes = stored_bytes - $1', [bundle.body.length]);
    if (bundle.identifier !== undefined && (await client.query('SELECT 1 FROM erased_sources WHERE identifier = $1', [bundle.identifier])).rows.length > 0) return 'erased';
    return 'stored-before';
  }
  for (const file of bundle.files) {
    // the same Date as the bundle's received_at, so the same microsecond (the foreign key)
    await client.query(
      `INSERT INTO bundle_files (bundle_id, bundle_received_at, field_name, filename, content_type, size, content) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, upload.receivedAt, file.fieldName, file.filename ?? null, file.contentType ?? null, file.content.length, file.content],
    );
  }
  return id;
}

/**
 * A client of `pool` within `timeoutMs`, or DCS_ERR_DATABASE_UNAVAILABLE. An upload must not wait
 * for a database that does not answer: it goes to the spool instead. A connection that arrives
 * after the deadline goes straight back to the pool.
 */
export async function connectWithin(pool: Pool, timeoutMs: number): Promise<PoolClient> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DcsError('DCS_ERR_DATABASE_UNAVAILABLE', `no database connection within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([connecting, deadline]);
  } catch (error) {
    connecting.then((client) => client.release(), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
