/**
 * The S3 destination of exports: copies a finished export file (usually a zip) to
 * s3://EXPORT_S3_BUCKET/EXPORT_S3_PREFIX/<key>.
 *
 * Region, credentials and the endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) come from the
 * standard AWS environment / config files through the SDK's default chains, so any S3-compatible
 * store works without settings of our own beyond the bucket, prefix and path style.
 */
import fs from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface S3Settings {
  /** EXPORT_S3_BUCKET */
  bucket: string;
  /** EXPORT_S3_PREFIX, '' for none; joined to the key with exactly one '/' when non-empty */
  prefix: string;
  /** EXPORT_S3_FORCE_PATH_STYLE (MinIO and most self-hosted stores need it) */
  forcePathStyle: boolean;
  /** Optional; otherwise the SDK reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL itself. */
  endpoint?: string;
  /** waits between attempts, in ms; default [1000, 5000, 30000, 120000] (so 5 attempts) */
  retryDelaysMs?: readonly number[];
}

export interface UploadLogger {
  warn(obj: object, msg: string): void;
}

// Nightly exports must survive transient outages (a store restarting, a network blip, throttling)
// that last longer than the SDK's own quick retries, hence waits of up to minutes between attempts.
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 30000, 120000];
// 16 MiB parts × 2 in flight: at most ~32 MiB buffered, and 10,000 parts allow exports up to ~156 GiB.
const PART_SIZE = 16 * 1024 * 1024;
const QUEUE_SIZE = 2;
// The SDK retries each request itself (3 attempts is also its default; pinned so AWS_MAX_ATTEMPTS
// cannot make it retry for hours inside one of our attempts). A socket idle for this long is a dead
// connection: without it a stalled upload would hang forever instead of failing and being retried.
const SDK_MAX_ATTEMPTS = 3;
const SOCKET_IDLE_TIMEOUT_MS = 5 * 60_000;

/** The object key for a key under the prefix (exported for tests/docs). */
export function s3ObjectKey(prefix: string, key: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  const k = key.replace(/^\/+/, '');
  return p ? `${p}/${k}` : k;
}

/**
 * Uploads a local file to s3://bucket/<prefix>/<key> with multipart, retrying the whole upload
 * after each delay on failure. When all attempts fail it throws the last error (with the attempt
 * count in its message): a failed upload must fail the report job so it shows up and can be rerun.
 * Returns the s3:// URL.
 */
export async function uploadFileToS3(filePath: string, key: string, settings: S3Settings, log: UploadLogger): Promise<string> {
  const objectKey = s3ObjectKey(settings.prefix, key);
  const url = `s3://${settings.bucket}/${objectKey}`;
  const delays = settings.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const attempts = delays.length + 1;
  const client = new S3Client({
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: { socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
  });
  try {
    for (let attempt = 1; ; attempt++) {
      // A fresh stream each time: a failed attempt leaves its stream partly consumed (or destroyed).
      const body = fs.createReadStream(filePath);
      try {
        await new Upload({
          client,
          params: {
            Bucket: settings.bucket,
            Key: objectKey,
            Body: body,
            ContentType: key.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
          },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
        }).done();
        return url;
      } catch (err) {
        if (attempt >= attempts) throw withAttempts(err, `S3 upload of ${filePath} to ${url} failed after ${attempts} attempts`);
        const delayMs = delays[attempt - 1];
        log.warn({ err, url, attempt, attempts, retryInMs: delayMs }, 'S3 upload failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      } finally {
        body.destroy();
      }
    }
  } finally {
    client.destroy();
  }
}

/** The last error itself (keeping its name, code and $metadata), its message prefixed. */
function withAttempts(err: unknown, prefix: string): Error {
  if (!(err instanceof Error)) return new Error(`${prefix}: ${String(err)}`, { cause: err });
  const original = err.message;
  err.message = `${prefix}: ${original}`;
  if (err.stack) err.stack = err.stack.replace(original, err.message);
  return err;
}
