/**
 * One spooled upload as bytes (docs/operations.md, "The upload spool"):
 *
 *   "DCS-SPOOL 1\n" | header length (uint32 BE) | header (JSON) | body | file contents... | CRC-32 (uint32 BE)
 *
 * The header holds every column of the `bundles` row (and the files' metadata) except the bytes,
 * which follow as they are, so a spooled upload is the same bytes its row would hold. The CRC-32
 * covers everything before it: a file damaged on disk is recognised and kept aside, never inserted.
 */
import { crc32 } from 'node:zlib';
import type { Endpoint, ReceivedUpload, Transport } from './bundle.repository.ts';

const MAGIC = Buffer.from('DCS-SPOOL 1\n');

interface Header {
  receipt: string;
  receivedAt: string;
  endpoint: Endpoint;
  transport: Transport;
  contentType: string | null;
  compression: string;
  encrypted: boolean;
  nonce: string | null;
  identifier: string | null;
  compressedAtRest: boolean;
  error: string | null;
  bodyBytes: number;
  files: { fieldName: string; filename: string | null; contentType: string | null; bytes: number }[];
}

export class SpoolFileError extends Error {
  override name = 'SpoolFileError';
}

export function encodeSpoolFile(upload: ReceivedUpload): Buffer {
  const { bundle } = upload;
  const header: Header = {
    receipt: upload.receipt,
    receivedAt: upload.receivedAt.toISOString(),
    endpoint: bundle.endpoint,
    transport: bundle.transport,
    contentType: bundle.contentType ?? null,
    compression: bundle.compression,
    encrypted: bundle.encrypted,
    nonce: bundle.nonce?.toString('base64') ?? null,
    identifier: bundle.identifier ?? null,
    compressedAtRest: bundle.compressedAtRest ?? false,
    error: upload.error ?? null,
    bodyBytes: bundle.body.length,
    files: bundle.files.map((f) => ({ fieldName: f.fieldName, filename: f.filename ?? null, contentType: f.contentType ?? null, bytes: f.content.length })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const content = Buffer.concat([MAGIC, length, headerBytes, bundle.body, ...bundle.files.map((f) => f.content)]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(content));
  return Buffer.concat([content, checksum]);
}

/** The upload in `bytes`; SpoolFileError when they are not a whole, intact spool file. */
export function decodeSpoolFile(bytes: Buffer): ReceivedUpload {
  if (bytes.length < MAGIC.length + 8 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new SpoolFileError('not a spool file');
  const content = bytes.subarray(0, bytes.length - 4);
  if (crc32(content) !== bytes.readUInt32BE(bytes.length - 4)) throw new SpoolFileError('checksum mismatch (damaged file)');
  const headerLength = content.readUInt32BE(MAGIC.length);
  let offset = MAGIC.length + 4;
  const header = JSON.parse(content.toString('utf8', offset, offset + headerLength)) as Header;
  offset += headerLength;
  const take = (count: number) => {
    if (offset + count > content.length) throw new SpoolFileError('truncated');
    const part = content.subarray(offset, offset + count);
    offset += count;
    return Buffer.from(part); // a copy: the file's buffer is not kept alive by one field
  };
  const body = take(header.bodyBytes);
  const files = header.files.map((f) => ({ fieldName: f.fieldName, filename: f.filename ?? undefined, contentType: f.contentType ?? undefined, content: take(f.bytes) }));
  if (offset !== content.length) throw new SpoolFileError('unexpected bytes after the last part');
  return {
    receipt: header.receipt,
    receivedAt: new Date(header.receivedAt),
    error: header.error ?? undefined,
    bundle: {
      endpoint: header.endpoint,
      transport: header.transport,
      contentType: header.contentType ?? undefined,
      compression: header.compression,
      encrypted: header.encrypted,
      nonce: header.nonce === null ? undefined : Buffer.from(header.nonce, 'base64'),
      body,
      identifier: header.identifier ?? undefined,
      compressedAtRest: header.compressedAtRest,
      files,
    },
  };
}
