/** secretbox as the original's backups use it: nonce first, then the box; wrong keys and damage are refused. */
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { decodeKey } from '../../src/crypto/box.ts';
import { generateSecretKey, openSecret, sealSecret } from '../../src/crypto/secretbox.ts';
import { runDcs } from '../helpers/dcs.ts';

describe('secretbox', () => {
  it('opens what it sealed, and what NaCl sealed with the nonce in front', () => {
    const key = decodeKey(generateSecretKey())!;
    const plain = Buffer.from('[{"passive-data-metadata": {"source": "48213077"}}]');
    expect(openSecret(sealSecret(plain, key), key)).toEqual(plain);
    const nonce = nacl.randomBytes(24);
    const theirs = Buffer.concat([nonce, nacl.secretbox(plain, nonce, key)]);
    expect(openSecret(theirs, key)).toEqual(plain);
  });

  it('refuses a wrong key, a flipped byte and a truncated file', () => {
    const key = decodeKey(generateSecretKey())!;
    const sealed = sealSecret(Buffer.from('backup'), key);
    expect(openSecret(sealed, decodeKey(generateSecretKey())!)).toBeUndefined();
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] ^= 1;
    expect(openSecret(flipped, key)).toBeUndefined();
    expect(openSecret(sealed.subarray(0, 30), key)).toBeUndefined();
  });
});

describe('dcs backup key', () => {
  it('prints a key the configuration accepts', async () => {
    const result = await runDcs(['backup', 'key'], { databaseUrl: 'postgres://unused' });
    expect(result.code).toBe(0);
    const [, value] = /^BACKUP_KEY=(\S+)$/m.exec(result.stdout)!;
    expect(loadConfig({ BACKUP_KEY: value }).backupKey).toHaveLength(32);
    expect(loadConfig({ PDK_BACKUP_KEY: value }).backupKey).toEqual(loadConfig({ BACKUP_KEY: value }).backupKey);
    expect(() => loadConfig({ BACKUP_KEY: 'c2hvcnQ=' })).toThrow(/BACKUP_KEY must be the base64 of a 32-byte key/);
  }, 60_000);
});
