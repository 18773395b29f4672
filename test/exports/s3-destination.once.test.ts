/**
 * The S3 destination against a real (fake) S3: s3rver on a free port, driven by the real AWS SDK.
 * Once-only: it writes and uploads a ~40 MiB file so that multipart uploads really happen.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
// s3rver ships no type declarations; the little this test uses is typed below.
// @ts-expect-error -- untyped CommonJS module
import S3rverUntyped from 's3rver';
import { s3ObjectKey, uploadFileToS3, type S3Settings } from '../../src/exports/destinations/s3.ts';

interface S3rverEvent {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3rverEvent) => void): void;
}
const S3rver = S3rverUntyped as new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets?: { name: string }[];
}) => S3rverInstance;

const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};

let server: S3rverInstance;
let serverDir: string;
let filesDir: string;
let endpoint: string;
let s3: S3Client;
const events: S3rverEvent[] = [];

function recordingLogger() {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
}

function settings(bucket: string, extra: Partial<S3Settings> = {}): S3Settings {
  return { bucket, prefix: 'studies/a', forcePathStyle: true, endpoint, ...extra };
}

function writeRandomFile(name: string, bytes: number): { file: string; sha256: string } {
  const data = crypto.randomBytes(bytes);
  const file = path.join(filesDir, name);
  fs.writeFileSync(file, data);
  return { file, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

async function objectSha256(bucket: string, key: string): Promise<{ sha256: string; contentType?: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = crypto.createHash('sha256');
  for await (const chunk of res.Body as Readable) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), contentType: res.ContentType };
}

beforeAll(async () => {
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  // uploadFileToS3 relies on the SDK's default chains for credentials and region.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
  serverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-s3rver-'));
  filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-s3-files-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: serverDir, configureBuckets: [{ name: 'exports' }] });
  server.on('event', (e) => events.push(e));
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  for (const dir of [serverDir, filesDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

describe('s3ObjectKey', () => {
  it('joins prefix and key with exactly one slash', () => {
    const key = '2026-12-02/host_2026-12-02_7_2026-12-03.zip';
    expect(s3ObjectKey('studies/a', key)).toBe(`studies/a/${key}`);
    expect(s3ObjectKey('studies/a/', key)).toBe(`studies/a/${key}`);
    expect(s3ObjectKey('/studies/a//', key)).toBe(`studies/a/${key}`);
    expect(s3ObjectKey('studies/a', `/${key}`)).toBe(`studies/a/${key}`);
    expect(s3ObjectKey('', key)).toBe(key);
    expect(s3ObjectKey('/', key)).toBe(key);
  });
});

describe('uploadFileToS3', () => {
  it('uploads a 40 MiB file in 16 MiB parts, byte for byte, under the prefix', async () => {
    const { file, sha256 } = writeRandomFile('big.zip', 40 * 1024 * 1024 + 12345);
    const key = '2026-12-02/host_2026-12-02_7_2026-12-03.zip';
    const log = recordingLogger();

    const url = await uploadFileToS3(file, key, settings('exports'), log);

    const objectKey = `studies/a/${key}`;
    expect(url).toBe(`s3://exports/${objectKey}`);
    expect(log.warnings).toEqual([]);
    // s3rver reports a completed multipart upload as ObjectCreated:Post (a single PUT is :Put).
    const created = events.filter((e) => e.Records[0].s3.object.key === objectKey).map((e) => e.Records[0].eventName);
    expect(created).toEqual(['ObjectCreated:Post']);
    const got = await objectSha256('exports', objectKey);
    expect(got.sha256).toBe(sha256);
    expect(got.contentType).toBe('application/zip');
  });

  it('retries a failed upload after the delay and succeeds once the bucket exists', async () => {
    const { file, sha256 } = writeRandomFile('small.bin', 1024 * 1024);
    const bucket = 'created-late';
    let createBucket: Promise<unknown> | undefined;
    const log = {
      warnings: [] as { obj: object; msg: string }[],
      warn(obj: object, msg: string) {
        this.warnings.push({ obj, msg });
        // The bucket appears during the first retry delay.
        createBucket ??= s3.send(new CreateBucketCommand({ Bucket: bucket }));
      },
    };

    const url = await uploadFileToS3(file, 'x/data.bin', settings(bucket, { retryDelaysMs: [300, 300] }), log);
    await createBucket;

    expect(url).toBe(`s3://${bucket}/studies/a/x/data.bin`);
    expect(log.warnings).toHaveLength(1);
    const { obj, msg } = log.warnings[0];
    expect(msg).toMatch(/retrying/);
    expect(obj).toMatchObject({ attempt: 1, attempts: 3, retryInMs: 300 });
    expect((obj as { err: Error }).err.name).toBe('NoSuchBucket');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'studies/a/x/data.bin' }));
    expect(head.ContentType).toBe('application/octet-stream');
    expect((await objectSha256(bucket, 'studies/a/x/data.bin')).sha256).toBe(sha256);
  });

  it('rejects with the last error and the attempt count when every attempt fails', async () => {
    const { file } = writeRandomFile('never.zip', 1000);
    const log = recordingLogger();

    const upload = uploadFileToS3(file, 'never.zip', settings('no-such-bucket', { retryDelaysMs: [10, 10] }), log);

    await expect(upload).rejects.toThrow(/failed after 3 attempts/);
    await expect(upload).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(log.warnings).toHaveLength(2);
  });
});
