/**
 * Uncompressed payloads are gzipped before they are stored. Raw bundles are kept for good and
 * JSON compresses about 4.5× (level 1), and the upload path gains too: the compression runs on
 * libuv's thread pool while the main thread validates the JSON, and the main thread then sends a
 * quarter of the bytes to PostgreSQL, which stores and logs a quarter of the bytes. (Benchmark:
 * 100-point CREATE bundles are 60% of the bytes uploaded; see BENCHMARKS.md.)
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { NewBundle } from './bundle.repository.ts';

const gzipAsync = promisify(gzip);

/** Smaller bodies stay as they are: they fit in the table row anyway (TOAST starts at 2 KB). */
export const COMPRESS_AT_REST_MIN_BYTES = 2048;

/**
 * Starts compressing `bundle`'s payload if it arrived uncompressed and unencrypted; resolves to
 * the bundle to store. Never rejects: if compression fails, the payload is stored as received.
 * Call it before validating, so that both run at once.
 */
export function compressForStorage(bundle: NewBundle): Promise<NewBundle> {
  if (bundle.compression !== 'none' || bundle.encrypted || bundle.body.length < COMPRESS_AT_REST_MIN_BYTES) {
    return Promise.resolve(bundle);
  }
  return gzipAsync(bundle.body, { level: 1, chunkSize: 128 * 1024 }).then(
    (body) => ({ ...bundle, compression: 'gzip', body, compressedAtRest: true }),
    () => bundle,
  );
}
