/**
 * Turns a stored bundle body back into JSON text: decrypt (NaCl box), then undo the compression.
 * Processing runs it on the stored bytes, so bundles stay encrypted and compressed at rest; ingest
 * checks uploads with the same unwrapping but streams the rest (check-payload.ts).
 */
import { gunzipSync } from 'node:zlib';
import { decodeBase64, openBox, type BoxKeys } from '../crypto/box.ts';
import { toStorableJson } from './json-text.ts';

export interface StoredPayload {
  compression: string;
  encrypted: boolean;
  nonce: Buffer | null | undefined;
  body: Buffer;
}

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** zlib stopped because the output would pass its maxOutputLength. */
const isOutputTooLarge = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || (error as RangeError).name === 'RangeError';

export function gzipError(error: unknown, maxInflatedBytes: number): PayloadError {
  if (isOutputTooLarge(error)) {
    return new PayloadError(`decompressed payload exceeds ${maxInflatedBytes} bytes`);
  }
  return new PayloadError(`invalid gzip data (${(error as Error).message})`);
}

/** Decrypts (and for encrypted compressed payloads, base64-decodes); says whether gunzip is next. */
export function unwrap(payload: StoredPayload, keys: BoxKeys | undefined): { bytes: Buffer; gzipped: boolean } {
  let bytes = payload.body;
  if (payload.encrypted) {
    if (!keys) throw new PayloadError('encrypted upload, but PDK_SERVER_KEY and PDK_CLIENT_KEY are not configured');
    if (!payload.nonce) throw new PayloadError('encrypted upload without a nonce');
    const plain = openBox(bytes, payload.nonce, keys);
    if (!plain) throw new PayloadError('cannot decrypt: wrong keys, nonce or ciphertext');
    bytes = plain;
    if (payload.compression !== 'none') {
      // The original clients compress, base64-encode, then encrypt.
      const decoded = decodeBase64(bytes.toString('latin1'));
      if (!decoded) throw new PayloadError('decrypted payload is not base64');
      bytes = decoded;
    }
  }
  if (payload.compression !== 'gzip' && payload.compression !== 'none') {
    throw new PayloadError(`unsupported compression "${payload.compression}"`);
  }
  return { bytes, gzipped: payload.compression === 'gzip' };
}

/** A gzip stream's last four bytes: the uncompressed size (of its last member, modulo 2^32); 0 if not gzip. */
const gzipSizeHint = (bytes: Buffer) => (bytes.length >= 18 && bytes[0] === 0x1f && bytes[1] === 0x8b ? bytes.readUInt32LE(bytes.length - 4) : 0);

/**
 * The bundle's JSON text, ready for JSON.parse and for PostgreSQL; undefined when it would be
 * longer than `maxBytes` (processing then reads the bundle as a stream: split-payload.ts).
 * Throws PayloadError.
 */
export function decodePayload(payload: StoredPayload, keys: BoxKeys | undefined, maxBytes: number): string | undefined {
  let { bytes, gzipped } = unwrap(payload, keys);
  if (gzipped) {
    // The size hint spares inflating maxBytes for nothing; a hint that lies is caught by the limit.
    if (gzipSizeHint(bytes) > maxBytes) return undefined;
    try {
      // Large output chunks: fewer copies and a smaller concatenation (7.7 -> 5.4 µs per point
      // decoding the benchmark's bundles, BENCHMARKS.md).
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes, chunkSize: 256 * 1024 });
    } catch (error) {
      if (isOutputTooLarge(error)) return undefined;
      throw gzipError(error, maxBytes);
    }
  } else if (bytes.length > maxBytes) {
    return undefined;
  }
  return toStorableJson(bytes.toString('utf8'));
}

/** JSON.parse that reports what was wrong as a PayloadError. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError(`invalid JSON (${(error as Error).message})`);
  }
}
