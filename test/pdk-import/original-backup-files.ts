/**
 * Backup files made the original's way (pdk-server.md §11.1, webmunk-server.md §5.6): Python's
 * `json.dumps` of a list (ASCII escapes, its separators), compressed by Python's `bz2` (PDK) or
 * `gzip` at level 1 (Webmunk), then NaCl secretbox with the nonce first and `.encrypted` appended.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import nacl from 'tweetnacl';

const PYTHON = `
import bz2, gzip, json, sys
value = json.loads(sys.stdin.buffer.read())
text = json.dumps(value).encode('utf-8')
sys.stdout.buffer.write(bz2.compress(text) if sys.argv[1] == 'bz2' else gzip.compress(text, compresslevel=1))
`;

/** `value` as the original wrote it: Python's json.dumps, then bz2 or gzip. */
export function originalCompressed(value: unknown, compression: 'bz2' | 'gzip'): Buffer {
  return execFileSync('python3', ['-c', PYTHON, compression], { input: JSON.stringify(value), maxBuffer: 256 * 1024 * 1024 });
}

/** PyNaCl's SecretBox.encrypt: a random nonce, then the box. */
export function sealed(plain: Uint8Array, key: Uint8Array): Buffer {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return Buffer.concat([nonce, nacl.secretbox(plain, nonce, key)]);
}

/** Writes `value` as the original's backup file `name` (encrypted with `key` when the name ends in .encrypted) under `dir`. */
export function writeBackupFile(dir: string, name: string, value: unknown, key?: Uint8Array): string {
  const compression = name.includes('.webmunk-pd-bundle.gz') ? 'gzip' : 'bz2';
  let bytes = originalCompressed(value, compression);
  if (name.endsWith('.encrypted')) bytes = sealed(bytes, key!);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A Django dumpdata row. */
export function dumpRow(model: string, pk: number, fields: Record<string, unknown>) {
  return { model, pk, fields };
}
