/**
 * The original PDK whole-bundle encryption: NaCl crypto_box (Curve25519, XSalsa20-Poly1305) with
 * the server's secret key and the one public key shared by all clients (pdk-server.md §4.2).
 */
import nacl from 'tweetnacl';

const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/** Decodes base64 that may contain line breaks (Android clients wrap at 76 columns). */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** A 32-byte key from base64, or undefined if it is not one. */
export function decodeKey(text: string): Uint8Array | undefined {
  const bytes = decodeBase64(text.trim());
  return bytes?.length === 32 ? new Uint8Array(bytes) : undefined;
}

export interface BoxKeys {
  serverSecretKey: Uint8Array;
  clientPublicKey: Uint8Array;
}

/** Opens a box; undefined when the keys, nonce or ciphertext do not match. */
export function openBox(ciphertext: Uint8Array, nonce: Uint8Array, keys: BoxKeys): Buffer | undefined {
  if (nonce.length !== nacl.box.nonceLength) return undefined;
  const plain = nacl.box.open(ciphertext, nonce, keys.clientPublicKey, keys.serverSecretKey);
  return plain ? Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength) : undefined;
}

/** What a client does: seal with its secret key for the server's public key. Used by tests and the bench. */
export function sealBox(plain: Uint8Array, nonce: Uint8Array, serverPublicKey: Uint8Array, clientSecretKey: Uint8Array): Uint8Array {
  return nacl.box(plain, nonce, serverPublicKey, clientSecretKey);
}

export function generateKeyPair(): { secretKey: string; publicKey: string } {
  const pair = nacl.box.keyPair();
  return {
    secretKey: Buffer.from(pair.secretKey).toString('base64'),
    publicKey: Buffer.from(pair.publicKey).toString('base64'),
  };
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return nacl.box.keyPair.fromSecretKey(secretKey).publicKey;
}
