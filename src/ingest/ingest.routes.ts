/**
 * The PDK upload protocol under /data/ (docs/upload-protocol.md): add-bundle.json and
 * add-point.json, for CREATE (arrives as SOURCE, see create-method.ts), POST (form, multipart or
 * raw JSON), PUT (raw or gzip JSON), OPTIONS and HEAD.
 *
 * Order matters: before the body is read, the token (UPLOAD_TOKENS) and the admission limits
 * (admission.ts: bytes in flight, per-address rates) are checked, so a refused upload costs
 * nothing. Then the upload is stored before anything else can fail. A request whose payload
 * cannot be decoded, or is beyond the limits, is still stored (as an errored bundle, whole body
 * kept, within ERRORED_UPLOADS_MAX_BYTES) and answered 400.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { hasBearerToken } from '../crypto/bearer.ts';
import { DcsError } from '../errors.ts';
import { PayloadError } from '../payload/bundle-codec.ts';
import { payloadLimits } from '../payload/check-payload.ts';
import { randomUUID } from 'node:crypto';
import { erroredBundle, type Endpoint, type NewBundle } from './bundle.repository.ts';
import { compressForStorage } from './compress-at-rest.ts';
import type { BundleNotifier } from './bundle-notifier.ts';
import { CREATE_CARRIER } from './create-method.ts';
import { FormError } from './form.ts';
import type { Admission } from './admission.ts';
import { refusal, REPLIES } from './replies.ts';
import type { UploadStore } from './store-upload.ts';
import { readUpload, transportOf, validateBundle, type IncomingUpload } from './upload.ts';

export interface IngestDeps {
  config: Config;
  notifier: BundleNotifier;
  /** the database, or the spool when the database cannot take an upload */
  uploads: UploadStore;
  admission: Admission;
}

const ALLOWED = 'CREATE, POST, PUT, HEAD, OPTIONS';
/** Larger bodies are compressed for storage after validation, not during: junk is not worth it (32 MB: 3.7 s). */
const COMPRESS_WHILE_VALIDATING_MAX_BYTES = 1024 * 1024;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined ? undefined : text.slice(0, 1024);
}

function json(reply: FastifyReply, status: number, body: string): FastifyReply {
  // A Buffer, so Fastify sends the header exactly as the original does (no charset parameter).
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(body));
}

const methodOf = (request: FastifyRequest) => (request.method === CREATE_CARRIER ? 'CREATE' : request.method);

/**
 * Before the body is read: the upload token, then the admission limits. The bytes reserved are
 * released when the reply has been sent (or the connection is gone).
 */
function admitUpload(deps: IngestDeps): onRequestAsyncHookHandler {
  const { config, admission } = deps;
  return async (request, reply) => {
    const method = methodOf(request);
    if (config.uploadsDisabled || method === 'OPTIONS' || method === 'HEAD') return;
    if (config.uploadTokens.length > 0 && (method === 'PUT' || config.uploadTokensFor === 'all')
      && !hasBearerToken(header(request, 'authorization'), config.uploadTokens)) {
      throw new DcsError('DCS_ERR_UNAUTHORIZED');
    }
    const declared = Number(request.headers['content-length']);
    if (declared > config.maxBodyBytes) {
      // refused unread; closing spares reading (and discarding) the rest
      reply.header('connection', 'close');
      throw new DcsError('DCS_ERR_BODY_TOO_LARGE', `Upload larger than the limit of ${config.maxBodyBytes} bytes.`);
    }
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? declared : config.maxBodyBytes;
    const outcome = await admission.admit(request.ip, bytes);
    if (outcome.verdict === 'admitted') {
      reply.raw.once('close', outcome.release);
      return;
    }
    request.log.warn({ address: request.ip, verdict: outcome.verdict }, 'upload refused; the client keeps it and sends it again');
    const { contentType, body } = refusal(header(request, 'x-pdk-identifier') !== undefined);
    return reply.code(outcome.verdict === 'busy' ? 503 : 429).header('content-type', contentType)
      .header('retry-after', String(outcome.retryAfterSeconds)).send(Buffer.from(body));
  };
}

async function handleUpload(request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint, deps: IngestDeps) {
  const { config } = deps;
  const receivedAt = new Date();
  const receipt = randomUUID();
  const method = methodOf(request);
  if (config.uploadsDisabled) {
    return json(reply, 201, endpoint === 'bundle' ? REPLIES.bundleDisabled : REPLIES.pointDisabled);
  }
  if (method === 'OPTIONS' || method === 'HEAD') {
    return reply.code(200).header('content-type', 'text/plain').send('');
  }
  if (method !== 'CREATE' && method !== 'POST' && method !== 'PUT') {
    reply.header('allow', ALLOWED);
    throw new DcsError('DCS_ERR_METHOD_NOT_ALLOWED', `Method ${method} is not allowed here; use ${ALLOWED}.`);
  }

  const upload: IncomingUpload = {
    endpoint,
    method,
    contentType: header(request, 'content-type'),
    contentEncoding: header(request, 'content-encoding'),
    identifier: header(request, 'x-pdk-identifier')?.replaceAll('\0', ''),
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };
  const keys = config.serverSecretKey && config.clientPublicKey
    ? { serverSecretKey: config.serverSecretKey, clientPublicKey: config.clientPublicKey }
    : undefined;

  let bundle;
  let stored: Promise<NewBundle> | undefined;
  const work = { inflatedBytes: 0 };
  try {
    bundle = await readUpload(upload);
    // On the thread pool while we validate; a large body only once it is known to be worth keeping.
    if (bundle.body.length <= COMPRESS_WHILE_VALIDATING_MAX_BYTES) stored = compressForStorage(bundle);
    await validateBundle(bundle, keys, payloadLimits(config), work);
  } catch (error) {
    if (!(error instanceof FormError) && !(error instanceof PayloadError)) throw error;
    deps.admission.charge(request.ip, work.inflatedBytes);
    const kept = await deps.uploads.keep({
      receipt,
      receivedAt,
      error: error.message,
      bundle: erroredBundle({ endpoint, transport: transportOf(upload), contentType: upload.contentType, identifier: upload.identifier, rawBody: upload.rawBody }),
    });
    if (kept === 'refused') return refuse(reply, upload);
    if (kept === 'erased') return storedReply(reply, endpoint, method);
    if (kept === 'not-kept') request.log.warn({ receipt, reason: error.message }, 'an undecodable upload was not kept: ERRORED_UPLOADS_MAX_BYTES is reached');
    else request.log.warn({ receipt, reason: error.message }, 'stored an undecodable upload as an errored bundle');
    reply.header('x-dcs-error', error.message.slice(0, 200).replace(/[^\x20-\x7e]/g, '?'));
    return json(reply, 400, endpoint === 'bundle' ? REPLIES.unparsableBundle : REPLIES.unparsablePoint);
  }
  deps.admission.charge(request.ip, work.inflatedBytes);
  const kept = await deps.uploads.keep({ receipt, receivedAt, bundle: await (stored ?? compressForStorage(bundle)) });
  if (kept === 'refused') return refuse(reply, upload);
  if (kept === 'stored') deps.notifier.bundleStored();
  return storedReply(reply, endpoint, method);
}

/**
 * The reply to a stored upload, and to one from an erased identifier (nothing stored): the client
 * then drops its points instead of sending them again.
 */
function storedReply(reply: FastifyReply, endpoint: Endpoint, method: string): FastifyReply {
  if (endpoint === 'point') return json(reply, 201, REPLIES.pointAdded);
  return json(reply, 201, method === 'CREATE' ? REPLIES.bundleAddedPretty : REPLIES.bundleAdded);
}

function refuse(reply: FastifyReply, upload: IncomingUpload): FastifyReply {
  const { contentType, body } = refusal(upload.identifier !== undefined);
  return reply.code(503).header('content-type', contentType).header('retry-after', '60').send(Buffer.from(body));
}

export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  const endpoints: [string, Endpoint][] = [['/data/add-bundle.json', 'bundle'], ['/data/add-point.json', 'point']];
  for (const [url, endpoint] of endpoints) {
    app.all(url, { onRequest: admitUpload(deps) }, (request, reply) => handleUpload(request, reply, endpoint, deps));
  }
}
