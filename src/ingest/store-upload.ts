/**
 * Where an upload is kept: in `bundles` when the database takes it within UPLOAD_DB_TIMEOUT_MS,
 * otherwise in the local spool (spool.ts), which drains into `bundles` when the database is back.
 * Only when the spool cannot take it either is the upload refused, and then so that the client
 * keeps it (replies.ts, `refusal`).
 */
import type { Pool } from '../db/database.ts';
import { transactionOn } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import { connectWithin, insertUpload, type Inserted, type ReceivedUpload } from './bundle.repository.ts';
import type { Spool } from './spool.ts';

/**
 * `not-kept`: an undecodable upload beyond ERRORED_UPLOADS_MAX_BYTES (answered as usual, counted);
 * `erased`: from an identifier on the erased list, nothing stored (answered as stored).
 */
export type StoreOutcome = 'stored' | 'spooled' | 'refused' | 'not-kept' | 'erased';

export interface UploadStore {
  keep(upload: ReceivedUpload): Promise<StoreOutcome>;
}

/** How often the "spooling" and "refusing" warnings repeat while the condition lasts. */
const WARN_EVERY_MS = 60_000;

export function createUploadStore(pool: Pool, spool: Spool, limits: { connectTimeoutMs: number; erroredMaxBytes: number }, log: Logger): UploadStore {
  const warned = { spooled: 0, refused: 0 };
  const counts = { spooled: 0, refused: 0 };
  const report = (kind: 'spooled' | 'refused', detail: object, message: string) => {
    counts[kind] += 1;
    if (Date.now() - warned[kind] < WARN_EVERY_MS) return;
    warned[kind] = Date.now();
    const fields = { ...detail, [`${kind}SinceLastWarning`]: counts[kind] };
    if (kind === 'refused') log.error(fields, message);
    else log.warn(fields, message);
    counts[kind] = 0;
  };
  return {
    async keep(upload) {
      let dbError: unknown;
      try {
        const inserted = await storeUpload(pool, upload, limits.connectTimeoutMs, limits.erroredMaxBytes);
        return inserted === 'over-quota' ? 'not-kept' : inserted === 'erased' ? 'erased' : 'stored';
      } catch (error) {
        // Whatever the reason (down, slow, full, a failing statement), the upload is not lost.
        dbError = error;
      }
      try {
        await spool.write(upload);
        report('spooled', { err: dbError }, `the database cannot take uploads; keeping them in the spool ${spool.dir}`);
        return 'spooled';
      } catch (spoolError) {
        report('refused', { err: spoolError, dbError }, 'neither the database nor the spool can take uploads; refusing them (clients keep and resend them)');
        return 'refused';
      }
    },
  };
}

/**
 * Stores one upload in its own transaction (see insertUpload); a lone INSERT, the common case,
 * needs none. The client comes within `connectTimeoutMs` or not at all (connectWithin).
 */
async function storeUpload(pool: Pool, upload: ReceivedUpload, connectTimeoutMs: number, erroredMaxBytes: number): Promise<Inserted> {
  const client = await connectWithin(pool, connectTimeoutMs);
  let broken = false;
  try {
    if (upload.bundle.files.length === 0 && upload.error === undefined) return await insertUpload(client, upload, erroredMaxBytes);
    return await transactionOn(client, (tx) => insertUpload(tx, upload, erroredMaxBytes));
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // after a failure the connection may be dead: do not hand it to the next upload
    client.release(broken);
  }
}
