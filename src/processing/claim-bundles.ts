/**
 * Claiming pending bundles for a batch (FOR UPDATE SKIP LOCKED, so several loops and workers share
 * the queue), reading them, and recording failed attempts.
 */
import { copyBinaryRows } from '../db/copy-binary.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { POSTGRES_EPOCH_SECONDS, timestampTextFromMicros } from './micros.ts';

/**
 * A bundle's key: bundles is partitioned by received_at (migration 0034), so a statement that
 * names both reads one partition; by id alone it probes every partition's index.
 */
export interface BundleKey {
  id: number;
  /** received_at, in microseconds since 2000 (micros.ts): exact, unlike a Date; also the last fallback for a point's `created`. */
  receivedMicros: number;
}

/** `(received_at, id) IN (...)` for `keys`, as SQL (made of numbers only, so safe to inline). */
function bundleKeysIn(keys: readonly BundleKey[]): string {
  const rows = keys.map((k) => `(timestamptz '${timestampTextFromMicros(Math.trunc(k.receivedMicros))}', ${Math.trunc(k.id)})`);
  return `(received_at, id) IN (${rows.join(', ')})`;
}

export interface ClaimedBundle extends BundleKey {
  /** points_recorded_at (a restored or imported bundle's original `recorded`), in microseconds; null: the processing time. */
  pointsRecordedMicros: number | null;
  /**
   * An import from an original server (transport 'pdk-import'): its points already hold the
   * original's `encrypted_transmission`, which processing keeps instead of setting it from this bundle.
   */
  imported: boolean;
  compression: string;
  encrypted: boolean;
  nonce: Buffer | null;
  body: Buffer;
  hasFiles: boolean;
}

/**
 * JSON bytes per batch, estimated from the stored size (gzip: about 4×): bounds the memory a
 * batch needs (parsed, it is several times larger again). A bundle larger than this is a batch alone.
 * 2 MB rather than 1: each batch has fixed costs (its statements, its transaction) and measured,
 * processing took about 10% less CPU per point for the same peak memory (BENCHMARKS.md).
 */
const MAX_BATCH_JSON_BYTES = 2 * 1024 * 1024;
const GZIP_RATIO_ESTIMATE = 4;

/**
 * Estimated JSON bytes of recent bundles. Rows are locked before their sizes are known, and every
 * row locked but left out of the batch stays locked (and unavailable to the other loops) until it
 * commits: so lock about as many as fit, not PROCESS_BATCH_BUNDLES every time.
 */
let averageBundleBytes = 256 * 1024;

/** bundles.transport of the bundles `dcs import-pdk` makes from an original server's stored points (pdk-import/import-bundles.ts). */
const IMPORT_TRANSPORT = 'pdk-import';

const int8 = (field: Buffer | null) => Number(field!.readBigInt64BE(0));

/**
 * Locks and reads the pending bundles of lowest id (or those of `only`), up to
 * MAX_BATCH_JSON_BYTES of JSON, in one statement: a binary COPY, so bodies come as bytes, not hex
 * text (src/db/copy-binary.ts), and receipt times as exact microseconds. The queue is taken
 * across every partition (a spooled or reprocessed bundle may be pending in an old month); the
 * rows locked are then read by their key, one partition each.
 */
export async function claimBundles(client: PoolClient, limit: number, only?: readonly BundleKey[]): Promise<ClaimedBundle[]> {
  const lock = only ? only.length : Math.min(limit, Math.ceil(MAX_BATCH_JSON_BYTES / averageBundleBytes) + 1);
  const rows = await copyBinaryRows(client, `
    WITH locked AS MATERIALIZED (
      SELECT received_at, id, octet_length(body) * CASE WHEN compression = 'gzip' THEN ${GZIP_RATIO_ESTIMATE} ELSE 1 END AS size FROM bundles
      WHERE status = 'pending' ${only ? `AND ${bundleKeysIn(only)}` : ''}
      ORDER BY id LIMIT ${Number(lock)} FOR UPDATE SKIP LOCKED
    ),
    chosen AS (
      SELECT received_at, id, size FROM (SELECT received_at, id, size, sum(size) OVER (ORDER BY id) AS upto, row_number() OVER (ORDER BY id) AS n FROM locked) s
      WHERE n = 1 OR upto <= ${MAX_BATCH_JSON_BYTES}
    )
    SELECT b.id, (extract(epoch FROM b.received_at) * 1000000 - ${POSTGRES_EPOCH_SECONDS}000000)::int8, b.compression, b.encrypted,
           b.nonce, b.body, EXISTS (SELECT 1 FROM bundle_files f WHERE f.bundle_id = b.id AND f.bundle_received_at = b.received_at), c.size::int8,
           (extract(epoch FROM b.points_recorded_at) * 1000000 - ${POSTGRES_EPOCH_SECONDS}000000)::int8, b.transport = '${IMPORT_TRANSPORT}'
    FROM bundles b JOIN chosen c USING (received_at, id) ORDER BY b.id`);
  if (rows.length === 0) return [];
  averageBundleBytes = Math.max(1, rows.reduce((sum, row) => sum + int8(row[7]), 0) / rows.length);
  return rows.map(([id, received, compression, encrypted, nonce, body, hasFiles, , pointsRecorded, imported]) => ({
    id: int8(id),
    receivedMicros: int8(received),
    pointsRecordedMicros: pointsRecorded ? int8(pointsRecorded) : null,
    imported: imported![0] === 1,
    compression: compression!.toString('utf8'),
    encrypted: encrypted![0] === 1,
    nonce,
    body: body!,
    hasFiles: hasFiles![0] === 1,
  }));
}

/** Records a failed attempt; the bundle is errored once it has failed `maxAttempts` times. */
export async function recordFailure(db: Pool | PoolClient, bundle: BundleKey, message: string, maxAttempts: number): Promise<void> {
  await db.query(
    `UPDATE bundles SET attempts = attempts + 1, error = $2,
       status = CASE WHEN attempts + 1 >= $3 THEN 'errored' ELSE 'pending' END,
       processed_at = CASE WHEN attempts + 1 >= $3 THEN now() END
     WHERE received_at = $4::timestamptz AND id = $1`,
    [bundle.id, message.slice(0, 2000), maxAttempts, timestampTextFromMicros(bundle.receivedMicros)],
  );
}
