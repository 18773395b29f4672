/**
 * A stored payload's bytes once decrypted and decompressed, chunk by chunk, never all at once:
 * for the JSON scanner at upload (check-payload.ts) and for processing's large bundles
 * (split-payload.ts). `work.inflatedBytes` counts what gunzip produced, also when it throws.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { BoxKeys } from '../crypto/box.ts';
import { gzipError, PayloadError, unwrap, type StoredPayload } from './bundle-codec.ts';

/**
 * Chunks of at most `chunkBytes` (gunzip's output chunks; slices of an uncompressed payload, with
 * other work let in between them). Throws PayloadError past `maxInflatedBytes`.
 */
export async function* inflate(payload: StoredPayload, keys: BoxKeys | undefined, maxInflatedBytes: number, chunkBytes: number, work = { inflatedBytes: 0 }): AsyncGenerator<Buffer> {
  const { bytes, gzipped } = unwrap(payload, keys);
  if (!gzipped) {
    if (bytes.length > maxInflatedBytes) throw new PayloadError(`payload exceeds ${maxInflatedBytes} bytes`);
    for (let at = 0; at < bytes.length; at += chunkBytes) {
      if (at > 0) await yieldToEventLoop();
      yield bytes.subarray(at, at + chunkBytes);
    }
    return;
  }
  const gunzip = createGunzip({ chunkSize: chunkBytes });
  gunzip.end(bytes);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      work.inflatedBytes += chunk.length;
      if (work.inflatedBytes > maxInflatedBytes) throw new PayloadError(`decompressed payload exceeds ${maxInflatedBytes} bytes`);
      yield chunk;
    }
  } catch (error) {
    throw error instanceof PayloadError ? error : gzipError(error, maxInflatedBytes);
  } finally {
    gunzip.destroy();
  }
}
