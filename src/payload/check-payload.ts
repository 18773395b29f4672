/**
 * The upload path's check of a payload: decrypt, then gunzip as a stream into the JSON scanner
 * (json-scan.ts), so that however the payload is built (a gzip bomb, 50 million nested arrays, one
 * huge string) it costs at most a 256 KB chunk of memory beyond the body itself, and nothing is kept.
 */
import type { BoxKeys } from '../crypto/box.ts';
import type { StoredPayload } from './bundle-codec.ts';
import { inflate } from './inflate.ts';
import { JsonScanner, type ScanLimits, type ScanResult } from './json-scan.ts';

export interface PayloadLimits extends ScanLimits {
  /** Most bytes the payload may inflate to. */
  maxInflatedBytes: number;
}

/** Nesting a data point never needs; deeper would also strain PostgreSQL's recursive jsonb parser. */
export const MAX_JSON_DEPTH = 512;
/**
 * Values one data point may hold: JSON.parse of a point then takes at most about 50 MB whatever its
 * shape. Real points hold a few thousand (a whole page is one string).
 */
export const MAX_POINT_VALUES = 1_000_000;

/** The limits of PayloadLimits that come from the configuration, with the fixed ones. */
export function payloadLimits(config: { maxInflatedBytes: number; maxPointBytes: number; maxBundlePoints: number }): PayloadLimits {
  return {
    maxInflatedBytes: config.maxInflatedBytes,
    maxElementBytes: config.maxPointBytes,
    maxElements: config.maxBundlePoints,
    maxDepth: MAX_JSON_DEPTH,
    maxElementValues: MAX_POINT_VALUES,
  };
}

/** gunzip's output chunk, and the slice of an uncompressed payload scanned before other requests get a turn. */
const CHUNK = 256 * 1024;

/**
 * Checks that `payload` decodes to a JSON array or object within `limits`. Rejects with PayloadError.
 * `work.inflatedBytes` counts the bytes decompressed, also when it rejects (the upload path charges
 * them to the client's address: a small gzip body can cost 64 MB of inflating).
 */
export async function checkPayload(payload: StoredPayload, keys: BoxKeys | undefined, limits: PayloadLimits, work = { inflatedBytes: 0 }): Promise<ScanResult> {
  const scanner = new JsonScanner(limits);
  for await (const chunk of inflate(payload, keys, limits.maxInflatedBytes, CHUNK, work)) scanner.push(chunk);
  return scanner.end();
}
