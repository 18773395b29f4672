/** Writes uploads to `bundles` (and their files to `bundle_files`). */
import type { Pool } from '../db/database.ts';
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

/** Stores a decodable upload, pending processing. Returns its id. */
export async function insertBundle(pool: Pool, bundle: NewBundle): Promise<number> {
  const values = [bundle.endpoint, bundle.transport, bundle.contentType ?? null, bundle.compression, bundle.encrypted, bundle.nonce ?? null, bundle.body, bundle.identifier ?? null, bundle.compressedAtRest ?? false];
  const insert = `INSERT INTO bundles (endpoint, transport, content_type, compression, encrypted, nonce, body, identifier, compressed_at_rest)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`;
  if (bundle.files.length === 0) {
    return (await pool.query(insert, values)).rows[0].id;
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const id: number = (await client.query(insert, values)).rows[0].id;
    for (const file of bundle.files) {
      await client.query(
        `INSERT INTO bundle_files (bundle_id, field_name, filename, content_type, size, content) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, file.fieldName, file.filename ?? null, file.contentType ?? null, file.content.length, file.content],
      );
    }
    await client.query('COMMIT');
    return id;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Stores an upload that could not be decoded: the whole request body, marked errored with the reason. */
export async function insertErroredBundle(pool: Pool, bundle: { endpoint: Endpoint; transport: Transport; contentType: string | undefined; identifier: string | undefined; rawBody: Buffer; error: string }): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO bundles (endpoint, transport, content_type, body, identifier, status, error, processed_at)
     VALUES ($1, $2, $3, $4, $5, 'errored', $6, now()) RETURNING id`,
    [bundle.endpoint, bundle.transport, bundle.contentType ?? null, bundle.rawBody, bundle.identifier ?? null, bundle.error],
  );
  return rows[0].id;
}
