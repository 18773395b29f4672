/**
 * One backup file's JSON array, element by element: opened (NaCl secretbox, nonce first, with the
 * original's PDK_BACKUP_KEY), decompressed as a stream (bz2 with unbzip2-stream, gzip with zlib)
 * and cut into its elements by the streaming JSON scanner, so memory holds the file as stored
 * (compressed: a few MB for the original's 500-point files), a decompressed block and one element,
 * never the whole decompressed array. The box must be opened whole: it is authenticated as one.
 */
import fs from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import unbzip2Stream from 'unbzip2-stream';
import { openSecret } from '../../crypto/secretbox.ts';
import { PayloadError } from '../../payload/bundle-codec.ts';
import { MAX_JSON_DEPTH, MAX_POINT_VALUES } from '../../payload/check-payload.ts';
import { arrayElements } from '../../payload/array-elements.ts';
import type { BackupFile } from './file-names.ts';

/** A file that cannot be read (or read to its end), and why, in words for the operator. */
export class BackupFileError extends Error {}

/** Compressed bytes handed to the decompressor at a time: its output for one stays a block (≤ 900 KB for bz2). */
const FEED = 64 * 1024;

/** The file's bytes as the original compressed them: opened with `key` when the name says `.encrypted`. */
async function compressedBytes(file: BackupFile, key: Uint8Array | undefined): Promise<Buffer> {
  let stored: Buffer;
  try {
    stored = await fs.readFile(file.path);
  } catch (error) {
    throw new BackupFileError(`cannot be read: ${(error as Error).message}`);
  }
  if (!file.encrypted) return stored;
  if (!key) throw new BackupFileError('is encrypted and no key was given (--key, or BACKUP_KEY / PDK_BACKUP_KEY: the original\'s PDK_BACKUP_KEY)');
  const plain = openSecret(stored, key);
  if (!plain) throw new BackupFileError('cannot be opened with this key: the key is not the one the original encrypted it with, or the file is damaged (truncated or changed)');
  return plain;
}

function decompress(file: BackupFile, bytes: Buffer): Readable {
  async function* feed() {
    for (let at = 0; at < bytes.length; at += FEED) yield bytes.subarray(at, at + FEED);
  }
  const source = Readable.from(feed());
  if (file.compression === 'gzip') return source.pipe(createGunzip());
  // unbzip2-stream is a classic stream: piped into a Readable, with its errors, so it can be iterated.
  const output = new PassThrough();
  const bz2 = unbzip2Stream();
  bz2.on('error', (error: Error) => output.destroy(error));
  source.pipe(bz2).pipe(output);
  return output;
}

/**
 * The elements of the file's root array as JSON texts, in order. Throws BackupFileError (possibly
 * after some elements: the caller keeps what it has) when the file cannot be opened,
 * decompressed or read as a JSON array, or an element is larger than `maxElementBytes`.
 */
export async function* readBackupElements(file: BackupFile, key: Uint8Array | undefined, maxElementBytes: number): AsyncGenerator<string> {
  const bytes = await compressedBytes(file, key);
  const stream = decompress(file, bytes);
  try {
    let rootIsArray = true;
    const limits = { maxDepth: MAX_JSON_DEPTH, maxElements: Number.MAX_SAFE_INTEGER, maxElementBytes, maxElementValues: MAX_POINT_VALUES };
    for await (const element of arrayElements(stream, limits, (result) => (rootIsArray = result.rootIsArray))) yield element.toString('utf8');
    if (!rootIsArray) throw new PayloadError('a JSON object where the original wrote an array');
  } catch (error) {
    if (error instanceof BackupFileError) throw error;
    if (error instanceof PayloadError && error.message.startsWith('a data point larger than')) {
      throw new BackupFileError(`holds ${error.message} (MAX_POINT_BYTES): raise MAX_POINT_BYTES and run the import again`);
    }
    if (error instanceof PayloadError) throw new BackupFileError(`is not a JSON array as the original wrote it: ${error.message}`);
    throw new BackupFileError(`cannot be decompressed (${file.compression}: damaged or cut short): ${(error as Error).message}`);
  } finally {
    stream.destroy();
  }
}
