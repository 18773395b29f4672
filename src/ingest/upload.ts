/**
 * From an HTTP request to a bundle row: undo the transport (form field, multipart part, base64)
 * and check that the payload decodes (decrypt, gunzip, JSON) to the right shape within the limits,
 * so a bad upload is answered 400 at once. What is stored is the payload as sent, still compressed/encrypted.
 */
import type { BoxKeys } from '../crypto/box.ts';
import { decodeBase64 } from '../crypto/box.ts';
import { PayloadError } from '../payload/bundle-codec.ts';
import { checkPayload, type PayloadLimits } from '../payload/check-payload.ts';
import type { Endpoint, NewBundle, Transport } from './bundle.repository.ts';
import { FormError, parseMultipart, parseUrlEncoded } from './form.ts';

export interface IncomingUpload {
  endpoint: Endpoint;
  /** CREATE, POST or PUT. */
  method: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  identifier: string | undefined;
  rawBody: Buffer;
}

/** The transport an upload used, known before decoding (for storing it even when decoding fails). */
export function transportOf(upload: Pick<IncomingUpload, 'method' | 'contentType'>): Transport {
  if (upload.method === 'CREATE') return 'create';
  if (upload.method === 'PUT') return 'put';
  const type = (upload.contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return 'multipart';
  if (type.startsWith('application/x-www-form-urlencoded')) return 'form';
  return 'json';
}

function fromFormFields(fields: Map<string, string>): Pick<NewBundle, 'compression' | 'encrypted' | 'nonce' | 'body'> {
  const payload = fields.get('payload');
  if (payload === undefined) throw new FormError('the form has no "payload" field');
  const compression = (fields.get('compression') ?? 'none').trim().toLowerCase() || 'none';
  const encrypted = fields.get('encrypted') === 'true';
  if (encrypted) {
    const nonceText = fields.get('nonce');
    if (nonceText === undefined) throw new FormError('encrypted upload without a "nonce" field');
    const nonce = decodeBase64(nonceText);
    const body = decodeBase64(payload);
    if (!nonce || !body) throw new PayloadError('encrypted payload or nonce is not base64');
    return { compression, encrypted, nonce, body };
  }
  if (compression === 'none') return { compression, encrypted, nonce: undefined, body: Buffer.from(payload, 'utf8') };
  const body = decodeBase64(payload);
  if (!body) throw new PayloadError(`payload with compression "${compression}" is not base64`);
  return { compression, encrypted, nonce: undefined, body };
}

/** Undoes the transport. Throws FormError or PayloadError for an upload that cannot be read. */
export async function readUpload(upload: IncomingUpload): Promise<NewBundle> {
  const transport = transportOf(upload);
  const common = { endpoint: upload.endpoint, transport, contentType: upload.contentType, identifier: upload.identifier };
  switch (transport) {
    case 'form':
      return { ...common, ...fromFormFields(parseUrlEncoded(upload.rawBody)), files: [] };
    case 'multipart': {
      const { fields, files } = await parseMultipart(upload.rawBody, upload.contentType ?? '');
      return { ...common, ...fromFormFields(fields), files };
    }
    case 'put': {
      const encoding = (upload.contentEncoding ?? 'identity').trim().toLowerCase();
      if (encoding !== 'gzip' && encoding !== 'identity') throw new PayloadError(`unsupported Content-Encoding "${encoding}"`);
      const compression = encoding === 'gzip' ? 'gzip' : 'none';
      return { ...common, compression, encrypted: false, nonce: undefined, body: upload.rawBody, files: [] };
    }
    case 'create':
    case 'json':
      return { ...common, compression: 'none', encrypted: false, nonce: undefined, body: upload.rawBody, files: [] };
  }
}

/**
 * Checks that the payload decodes to the right shape within `limits`, in bounded memory
 * (payload/check-payload.ts). Rejects with PayloadError.
 */
export async function validateBundle(bundle: NewBundle, keys: BoxKeys | undefined, limits: PayloadLimits, work?: { inflatedBytes: number }): Promise<void> {
  const { rootIsArray } = await checkPayload(bundle, keys, limits, work);
  // add-point.json takes one point, or (as the original did) an array of them
  if (bundle.endpoint === 'bundle' && !rootIsArray) throw new PayloadError('a bundle must be a JSON array of data points');
}
