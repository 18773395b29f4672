/**
 * Turns a stored bundle body back into JSON text: decrypt (NaCl box), then undo the compression.
 * Ingest runs it once to validate an upload before answering; processing runs it again on the
 * stored bytes, so bundles stay encrypted and compressed at rest.
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

function gunzip(bytes: Buffer, maxInflatedBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxInflatedBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || (error as RangeError).name === 'RangeError') {
      throw new PayloadError(`decompressed payload exceeds ${maxInflatedBytes} bytes`);
    }
    throw new PayloadError(`invalid gzip data (${(error as Error).message})`);
  }
}

/** The bundle's JSON text, ready for JSON.parse and for PostgreSQL. Throws PayloadError. */
export function decodePayload(payload: StoredPayload, keys: BoxKeys | undefined, maxInflatedBytes: number): string {
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
  if (payload.compression === 'gzip') bytes = gunzip(bytes, maxInflatedBytes);
  else if (payload.compression !== 'none') throw new PayloadError(`unsupported compression "${payload.compression}"`);
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
