/**
 * The upload form's files, streamed into the database sealed (issue 20 §2): every MiB is sealed to
 * DONATION_PUBLIC_KEY before it is written, so no donated byte is ever stored in clear and the web
 * process cannot read back what it stored. A file is refused while it streams in when it is larger
 * than DONATION_MAX_FILE_MB or its first bytes are not the kind its source takes (a ZIP's
 * signature; for a CSV, no signature of a binary format); the importer checks the rest.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { Pool } from '../db/database.ts';
import { sealedBoxTo } from '../crypto/sealed-box.ts';
import type { DonationImporter } from './importer-contract.ts';
import { appendChunk, createReceivingFile, dropReceiving, finishReceiving, refuseReceiving } from './file-store.repository.ts';

const CHUNK_BYTES = 1024 * 1024;
const MAX_FILES = 20;

export interface ReceiveOptions {
  requestId: number;
  /** field name → importer, for the sources this participant may upload to */
  importers: ReadonlyMap<string, DonationImporter>;
  publicKey: Uint8Array;
  maxFileBytes: number;
}

export interface Received {
  stored: number;
  refused: number;
}

/** Signatures of binary formats a participant might pick instead of a CSV (a PDF invoice, a screenshot, a ZIP…). */
const BINARY_SIGNATURES = ['PK\x03\x04', '%PDF', '\x89PNG', 'GIF8', '\xFF\xD8\xFF', '\x1F\x8B', 'Rar!', '7z\xBC\xAF', '\xD0\xCF\x11\xE0'].map((s) => Buffer.from(s, 'latin1'));

function wrongKind(head: Buffer, importer: DonationImporter): { participant: string; staff: string } | undefined {
  if (importer.fileKind === 'zip') {
    if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return undefined;
    return { participant: `This is not a ZIP file. ${importer.name} comes as a ZIP file: upload it as you downloaded it, without unpacking it.`, staff: `not a ZIP (first bytes ${head.subarray(0, 8).toString('hex')})` };
  }
  const binary = BINARY_SIGNATURES.find((signature) => head.subarray(0, signature.length).equals(signature));
  if (!binary) return undefined;
  const zip = binary.equals(BINARY_SIGNATURES[0]);
  return {
    participant: zip ? 'This is a ZIP file. Open it and upload the CSV file inside it.' : `This is not a CSV file. Upload the CSV file ${importer.name} gives you.`,
    staff: `not a CSV (first bytes ${head.subarray(0, 8).toString('hex')})`,
  };
}

/** One file part: sealed chunk by chunk into a new `receiving` row, then received or refused. */
async function receiveFile(db: Pool, stream: Readable & { truncated?: boolean }, name: string, importer: DonationImporter, options: ReceiveOptions, started: number[]): Promise<'stored' | 'refused'> {
  const fileId = await createReceivingFile(db, options.requestId, importer.source, name.slice(0, 255));
  started.push(fileId);
  const seal = sealedBoxTo(options.publicKey);
  const hash = crypto.createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let size = 0;
  let n = 0;
  let refusal: { participant: string; staff: string } | undefined;
  const flush = async () => {
    const plain = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await appendChunk(db, fileId, n, seal(plain));
    n += 1;
  };
  if (stream.errored) throw stream.errored;
  for await (const data of stream as AsyncIterable<Buffer>) {
    if (refusal) continue; // drain what the browser still sends
    if (size === 0 && n === 0) refusal = wrongKind(data, importer);
    if (refusal) continue;
    size += data.length;
    hash.update(data);
    pending.push(data);
    pendingBytes += data.length;
    if (pendingBytes >= CHUNK_BYTES) await flush();
  }
  if (!refusal && stream.truncated) {
    const mb = Math.round(options.maxFileBytes / 1024 / 1024);
    refusal = { participant: `This file is larger than the ${mb} MB this study accepts.`, staff: `larger than DONATION_MAX_FILE_MB (${mb} MB)` };
  }
  if (!refusal && size === 0) refusal = { participant: 'This file is empty.', staff: 'empty file' };
  if (refusal) {
    await refuseReceiving(db, fileId, size, refusal.participant, refusal.staff);
    return 'refused';
  }
  if (pendingBytes > 0) await flush();
  await finishReceiving(db, fileId, size, hash.digest());
  return 'stored';
}

/**
 * Reads a multipart upload: each file under a field named by one of the participant's sources is
 * stored; other fields and empty file inputs are ignored. Rejects (and keeps nothing of the file
 * being received) when the body is not multipart or the browser stops sending.
 */
export async function receiveDonatedFiles(db: Pool, request: IncomingMessage, options: ReceiveOptions): Promise<Received> {
  const parser = busboy({
    headers: request.headers,
    limits: { fileSize: options.maxFileBytes, files: MAX_FILES, fields: 20, parts: MAX_FILES + 20, fieldSize: 1024 },
    defParamCharset: 'utf8',
  });
  const started: number[] = [];
  const outcomes: Promise<'stored' | 'refused' | 'ignored'>[] = [];
  const open = new Set<Readable>();
  const done = new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      // a body cut short leaves the file being read open: end its reader with the error
      for (const stream of open) stream.destroy(error);
      reject(error);
    };
    parser.on('file', (field, stream, info) => {
      open.add(stream);
      stream.on('close', () => open.delete(stream));
      stream.on('error', () => undefined); // read from `errored` by the receiver
      const importer = options.importers.get(field);
      if (!importer || !info.filename) {
        stream.resume();
        outcomes.push(Promise.resolve('ignored'));
        return;
      }
      // One file at a time, in the order sent (the next part's bytes wait in its stream meanwhile).
      const previous = outcomes.at(-1) ?? Promise.resolve('ignored');
      outcomes.push(previous.catch(() => undefined).then(() => receiveFile(db, stream, info.filename!, importer, options, started)).catch((error: unknown) => {
        stream.resume();
        throw error;
      }));
    });
    parser.on('error', fail);
    parser.on('close', resolve);
    request.on('aborted', () => fail(new Error('the browser stopped sending the upload')));
  });
  request.pipe(parser);
  try {
    await done;
    const results = await Promise.all(outcomes);
    return { stored: results.filter((r) => r === 'stored').length, refused: results.filter((r) => r === 'refused').length };
  } catch (error) {
    await Promise.allSettled(outcomes);
    await dropReceiving(db, started);
    throw error;
  }
}
