/**
 * Request-body parsers for the two form encodings clients use.
 *
 * application/x-www-form-urlencoded: a split on `&` and `=` plus decodeURIComponent. Bundles
 * carry one 100+ KB base64 field; this is several times faster on such bodies than general
 * query-string parsers, which walk every character in JavaScript.
 */
import busboy from 'busboy';
import { Readable } from 'node:stream';

export class FormError extends Error {
  override name = 'FormError';
}

export function parseUrlEncoded(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  const text = body.toString('utf8');
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      const name = decodeFormComponent(rawName);
      if (!fields.has(name)) fields.set(name, decodeFormComponent(rawValue));
    } catch {
      throw new FormError(`malformed percent-encoding in form field "${rawName.slice(0, 40)}"`);
    }
  }
  return fields;
}

function decodeFormComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  return spaced.includes('%') ? decodeURIComponent(spaced) : spaced;
}

export interface UploadedFile {
  fieldName: string;
  filename: string | undefined;
  contentType: string | undefined;
  content: Buffer;
}

/** multipart/form-data (busboy): text fields, and every file part under its field name. */
export async function parseMultipart(body: Buffer, contentType: string): Promise<{ fields: Map<string, string>; files: UploadedFile[] }> {
  const fields = new Map<string, string>();
  const files: UploadedFile[] = [];
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { fieldSize: Infinity, fileSize: Infinity, fields: 1000, files: 1000, parts: 2000 },
      defParamCharset: 'utf8',
    });
  } catch (error) {
    throw new FormError(`malformed multipart request (${(error as Error).message})`);
  }
  return new Promise((resolve, reject) => {
    parser.on('field', (name, value) => {
      if (!fields.has(name)) fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => files.push({ fieldName: name, filename: info.filename, contentType: info.mimeType, content: Buffer.concat(chunks) }));
    });
    parser.on('error', (error: Error) => reject(new FormError(`malformed multipart body (${error.message})`)));
    parser.on('close', () => resolve({ fields, files }));
    Readable.from([body]).pipe(parser);
  });
}
