/**
 * A stored payload read as a stream of pieces, each a JSON array text of whole points of about
 * `pieceBytes`: processing's way through a bundle too large to parse at once. Memory stays at a
 * piece, a gunzip chunk, and the point being read (at most MAX_POINT_BYTES), whatever the bundle's
 * size; the same limits as at upload apply (json-scan.ts), so a bundle stored before them, or
 * through the spool, is refused with the same reasons.
 */
import type { BoxKeys } from '../crypto/box.ts';
import type { StoredPayload } from './bundle-codec.ts';
import type { PayloadLimits } from './check-payload.ts';
import { inflate } from './inflate.ts';
import { arrayElements } from './array-elements.ts';
import { toStorableJson } from './json-text.ts';

const CHUNK = 64 * 1024;
const COMMA = Buffer.from(',');

/**
 * Yields the payload's points (the elements of its root array, or its root object) as JSON array
 * texts of about `pieceBytes` each, ready for JSON.parse and PostgreSQL (toStorableJson). An empty
 * bundle yields nothing. Throws PayloadError, possibly after some pieces: the caller must be able to
 * undo them.
 */
export async function* splitPayload(payload: StoredPayload, keys: BoxKeys | undefined, limits: PayloadLimits, pieceBytes: number): AsyncGenerator<string> {
  let piece: Buffer[] = [];
  let pieceSize = 0;
  for await (const point of arrayElements(inflate(payload, keys, limits.maxInflatedBytes, CHUNK), limits)) {
    if (piece.length > 0) piece.push(COMMA);
    piece.push(point);
    pieceSize += point.length + 1;
    if (pieceSize >= pieceBytes) {
      yield arrayText(piece);
      piece = [];
      pieceSize = 0;
    }
  }
  if (piece.length > 0) yield arrayText(piece);
}

function arrayText(parts: Buffer[]): string {
  return toStorableJson(`[${Buffer.concat(parts).toString('utf8')}]`);
}
