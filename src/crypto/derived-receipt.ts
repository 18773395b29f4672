/**
 * A receipt (bundles.receipt, a uuid) derived from what a bundle is, not drawn at random: a
 * restore and an import give the same bundle the same receipt every time, so the unique receipt
 * index makes running them again store nothing twice. The first 128 bits of a SHA-256 of the parts.
 */
import { createHash } from 'node:crypto';

export function derivedReceipt(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  const hex = hash.digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
