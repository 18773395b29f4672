/**
 * Sealed boxes as PDK External Data made them (PyNaCl's SealedBox): ours open PyNaCl's, and what
 * we seal opens with the recipient's key only (PyNaCl opened ours too when this was written:
 * `SealedBox(PrivateKey(secret)).decrypt(...)`, see make-pynacl-sealed-box.py).
 */
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { openSealedBox, sealedBoxTo } from '../../src/crypto/sealed-box.ts';

const vector = JSON.parse(readFileSync(new URL('../fixtures/donations/pynacl-sealed-box.json', import.meta.url), 'utf8')) as {
  secretKey: string; publicKey: string; sealed: { text: string; sealed: string }[];
};
const secretKey = new Uint8Array(Buffer.from(vector.secretKey, 'base64'));
const publicKey = new Uint8Array(Buffer.from(vector.publicKey, 'base64'));

describe('sealed boxes', () => {
  it("opens PyNaCl's sealed boxes to the original text", () => {
    expect(vector.sealed).toHaveLength(3);
    for (const { text, sealed } of vector.sealed) expect(openSealedBox(Buffer.from(sealed, 'base64'), secretKey)?.toString('utf8')).toBe(text);
  });

  it('seals so that the secret key opens it, with a fresh ephemeral key each time', () => {
    const seal = sealedBoxTo(publicKey);
    const text = 'Wie geht’s? 🙂';
    const first = seal(Buffer.from(text));
    const second = seal(Buffer.from(text));
    expect(first.length).toBe(32 + 16 + Buffer.byteLength(text));
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
    expect(openSealedBox(first, secretKey)?.toString('utf8')).toBe(text);
    expect(openSealedBox(second, secretKey)?.toString('utf8')).toBe(text);
  });

  it('does not open with another key, nor when a byte changed or it is cut short', () => {
    const sealed = sealedBoxTo(publicKey)(Buffer.from('secret'));
    expect(openSealedBox(sealed, nacl.box.keyPair().secretKey)).toBeUndefined();
    const flipped = Uint8Array.from(sealed);
    flipped[40] ^= 1;
    expect(openSealedBox(flipped, secretKey)).toBeUndefined();
    const ephemeralChanged = Uint8Array.from(sealed);
    ephemeralChanged[0] ^= 1;
    expect(openSealedBox(ephemeralChanged, secretKey)).toBeUndefined();
    expect(openSealedBox(sealed.subarray(0, 47), secretKey)).toBeUndefined();
  });

  it('refuses a public key of the wrong size', () => {
    expect(() => sealedBoxTo(new Uint8Array(31))).toThrow(RangeError);
  });
});
