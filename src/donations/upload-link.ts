/**
 * The participant's upload link and review key (ecosystem-api.md §4.4.3, §4.4.5). The link's token
 * is 32 random bytes: only its sha256 is stored, so reading the database gives no one a way in.
 * Each link comes with a fresh review key pair: the worker seals the participant's extraction to
 * its public half; its secret half is stored wrapped under a key derived from the token, so only
 * the holder of the current link can read what is waiting for review (not staff, not a database
 * dump). A new link (the participant opened the start page again) makes the old one and its review
 * key useless; files still waiting for review are then extracted again to the new key.
 */
import crypto from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
import nacl from 'tweetnacl';
import { openSealedBox, sealedBoxTo } from '../crypto/sealed-box.ts';
import { openSecret, sealSecret } from '../crypto/secretbox.ts';
import type { Extraction } from './importer-contract.ts';

/** A link dies this long after it was issued; the task list's start link makes a new one at any time. */
export const UPLOAD_LINK_DAYS = 7;

export interface UploadLink {
  /** What goes in the URL (64 hex characters), never stored. */
  token: string;
  tokenSha256: Buffer;
  reviewPublicKey: Buffer;
  reviewSecretWrapped: Buffer;
}

export function tokenSha256(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

function wrappingKey(token: string): Uint8Array {
  return crypto.createHash('sha256').update(`webmunk-dcs donation review key\n${token}`, 'utf8').digest();
}

export function newUploadLink(): UploadLink {
  const token = crypto.randomBytes(32).toString('hex');
  const review = nacl.box.keyPair();
  return {
    token,
    tokenSha256: tokenSha256(token),
    reviewPublicKey: Buffer.from(review.publicKey),
    reviewSecretWrapped: sealSecret(review.secretKey, wrappingKey(token)),
  };
}

/** The review secret key, or undefined when the token is not the one it was wrapped for. */
export function reviewSecretKey(token: string, wrapped: Uint8Array): Buffer | undefined {
  return openSecret(wrapped, wrappingKey(token));
}

/**
 * An extraction as stored until the participant confirms it: gzip JSON sealed to the review key.
 * The JSON is gzipped row by row: a 100 MB Amazon report's extraction is 235 million characters
 * of JSON, which as one string doubled the import's peak memory.
 */
export async function sealExtraction(extraction: Extraction, reviewPublicKey: Uint8Array): Promise<Buffer> {
  const gzip = createGzip();
  const compressed: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = once(gzip, 'end');
  const write = async (text: string) => {
    if (!gzip.write(text)) await once(gzip, 'drain');
  };
  // rows go to gzip in pieces of about 256 KB: a write per row cost a third more CPU
  let piece = `{"notes":${JSON.stringify(extraction.notes)},"rows":[`;
  for (let i = 0; i < extraction.rows.length; i += 1) {
    piece += `${i > 0 ? ',' : ''}${JSON.stringify(extraction.rows[i])}`;
    if (piece.length >= 256 * 1024) {
      await write(piece);
      piece = '';
    }
  }
  gzip.end(`${piece}]}`);
  await ended;
  return Buffer.from(sealedBoxTo(reviewPublicKey)(Buffer.concat(compressed)));
}

/** The extraction the worker sealed; undefined when the key does not open it. Points' `created` come back as Dates. */
export function openExtraction(sealed: Uint8Array, reviewSecret: Uint8Array): Extraction | undefined {
  const plain = openSealedBox(sealed, reviewSecret);
  if (!plain) return undefined;
  const extraction = JSON.parse(gunzipSync(plain).toString('utf8')) as Extraction;
  for (const row of extraction.rows) for (const point of row.points) point.created = new Date(point.created);
  return extraction;
}
