/**
 * One backup file: lines of JSON, gzip-compressed, then sealed with NaCl secretbox under BACKUP_KEY
 * (nonce ‖ box, crypto/secretbox.ts), so nothing of the study leaves the machine readable. Each
 * run's manifest (plain JSON: names, counts, ranges, sha256 of each sealed file, no study data)
 * lets verify and restore prove they have every file, unchanged, before they use any.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { createGzip, gunzip } from 'node:zlib';
import { openSecret, sealSecret } from '../crypto/secretbox.ts';

const gunzipAsync = promisify(gunzip);

export const MANIFEST_FORMAT = 'webmunk-dcs-backup/1';
/** Every run is a folder under this one, at each destination. */
export const BACKUP_ROOT = 'dcs-backup/';

/** A problem with the backup itself (missing, damaged, wrong key): the message says which file and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface ManifestFile {
  /** The file's key at the destination (under the run's folder). */
  key: string;
  kind: 'bundles' | 'tables';
  sha256: string;
  bytes: number;
  /** Lines in it: bundles, or table rows. */
  records: number;
  /** bundles: lowest and highest bundle id in it (ids of the server that made the backup). */
  firstBundle?: number;
  lastBundle?: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  startedAt: string;
  finishedAt: string;
  /** sha256 of the key, first 16 hex digits: tells a wrong key apart from a damaged file. */
  keyId: string;
  bundles: { count: number; firstBundle: number | null; lastBundle: number | null; firstReceived: string | null; lastReceived: string | null };
  /** Rows per small table in this run (all of them; Amazon products changed since the previous run). */
  tables: Record<string, number>;
  files: ManifestFile[];
}

export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Lines compressed as they come (a gzip stream: the file's text never exists whole), then sealed:
 * secretbox needs the whole message, so a file costs about three times its compressed size.
 */
export function lineSealer(key: Uint8Array) {
  const gzipper = createGzip();
  const chunks: Buffer[] = [];
  gzipper.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    gzipper.once('end', resolve);
    gzipper.once('error', reject);
  });
  return {
    /** Adds a line; resolves when the compressor can take more. */
    async add(line: string): Promise<void> {
      if (!gzipper.write(`${line}\n`)) await new Promise((resolve) => gzipper.once('drain', resolve));
    },
    async seal(): Promise<Buffer> {
      gzipper.end();
      await ended;
      return sealSecret(Buffer.concat(chunks), key);
    },
  };
}

/** The lines of a sealed file whose sha256 the manifest already vouched for; a wrong key is said so. */
export async function openLines(sealed: Buffer, key: Uint8Array, name: string): Promise<string[]> {
  const compressed = openSecret(sealed, key);
  if (!compressed) throw new BackupError(`${name} cannot be decrypted with this key (its checksum is right, so the key is wrong).`);
  const text = (await gunzipAsync(compressed)).toString('utf8');
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
}

/** Reads and checks a run's file: present, the size and sha256 the manifest says. */
export function checkFile(bytes: Buffer | undefined, file: ManifestFile, where: string): Buffer {
  if (!bytes) throw new BackupError(`${where}: ${file.key} is missing.`);
  if (bytes.length !== file.bytes || sha256Of(bytes) !== file.sha256) {
    throw new BackupError(`${where}: ${file.key} is damaged (its sha256 differs from the manifest's).`);
  }
  return bytes;
}

/** Run names sort by time: 2026-12-06T15-04-05.123Z. */
export function runName(startedAt: Date): string {
  return startedAt.toISOString().replace(/:/g, '-');
}
