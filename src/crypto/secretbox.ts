/**
 * NaCl secretbox (XSalsa20-Poly1305 under one 32-byte key), laid out as the original PDK's backups
 * are: a random 24-byte nonce, then the box (pdk-server.md §11). Our backups use it with BACKUP_KEY;
 * the original's backup files open with its PDK_BACKUP_KEY the same way.
 */
import nacl from 'tweetnacl';

export const SECRET_KEY_LENGTH = nacl.secretbox.keyLength;

export function generateSecretKey(): string {
  return Buffer.from(nacl.randomBytes(SECRET_KEY_LENGTH)).toString('base64');
}

/** nonce ‖ box of `plain` under `key`. */
export function sealSecret(plain: Uint8Array, key: Uint8Array): Buffer {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return Buffer.concat([nonce, nacl.secretbox(plain, nonce, key)]);
}

/** The plain bytes of nonce ‖ box, or undefined when the key or the bytes are wrong (never a partial result). */
export function openSecret(sealed: Uint8Array, key: Uint8Array): Buffer | undefined {
  const nonceLength = nacl.secretbox.nonceLength;
  if (sealed.length < nonceLength + nacl.secretbox.overheadLength) return undefined;
  const plain = nacl.secretbox.open(sealed.subarray(nonceLength), sealed.subarray(0, nonceLength), key);
  return plain ? Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength) : undefined;
}
