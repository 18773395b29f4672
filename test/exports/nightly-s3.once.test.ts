/**
 * The nightly export to S3, end to end: a real (fake) S3 (s3rver) reached through the AWS SDK's
 * own environment variables (AWS_ENDPOINT_URL, credentials, region), the original's key layout
 * under EXPORT_S3_PREFIX, and a failed upload that fails the job until it is retried.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error -- s3rver ships no type declarations
import S3rverUntyped from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { queueNightlyDay } from '../../src/exports/nightly.ts';
import { claimNextReportJob, getReportJob, retryReportJob } from '../../src/exports/report-jobs.repository.ts';
import { runReportJob } from '../../src/exports/run-report-job.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { readZip, tempDir, uploadPoints } from './support.ts';

const S3rver = S3rverUntyped as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
const log = createLogger('silent');
let s3server: InstanceType<typeof S3rver>;
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir() });
  const { port } = await s3server.run();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
  s3 = new S3Client({ forcePathStyle: true });
  server = await startTestServer({ EXPORT_DIR: tempDir(), EXPORT_S3_BUCKET: 'study-exports', EXPORT_S3_PREFIX: 'pilot/', EXPORT_S3_FORCE_PATH_STYLE: 'true', PUBLIC_URL: 'https://dcs.example.edu/' });
  await uploadPoints(server, samples(2, 3, 7));
});
afterAll(async () => {
  await server?.stop();
  await s3server?.close();
});

async function objectBytes(key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: 'study-exports', Key: key }));
  const chunks: Buffer[] = [];
  for await (const chunk of response.Body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('nightly export to S3', () => {
  it('fails the job while the bucket cannot take the upload, and succeeds when retried', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const [job] = await queueNightlyDay(server.db.pool, server.config, day);
    expect(job.destinations).toEqual(['folder', 's3']);
    const claimed = (await claimNextReportJob(server.db.pool, [job.id]))!;
    expect(await runReportJob({ pool: server.db.pool, config: server.config, log, s3RetryDelaysMs: [10] }, claimed)).toBe('failed');
    const failed = (await getReportJob(server.db.pool, job.id))!;
    expect(failed.error).toMatch(/failed after 2 attempts.*bucket/i);
    expect(failed.storedAt).toHaveLength(1); // the local copy was written

    await s3.send(new CreateBucketCommand({ Bucket: 'study-exports' }));
    expect(await retryReportJob(server.db.pool, job.id)).toBe(true);
    const again = (await claimNextReportJob(server.db.pool, [job.id]))!;
    expect(await runReportJob({ pool: server.db.pool, config: server.config, log }, again)).toBe('done');
    const done = (await getReportJob(server.db.pool, job.id))!;
    const key = `pilot/${day}/dcs.example.edu_${day}_${job.id}_${day}.zip`;
    expect(done.fileName).toBe(`${day}/dcs.example.edu_${day}_${job.id}_${day}.zip`);
    expect(done.storedAt).toEqual([expect.stringContaining(done.fileName!), `s3://study-exports/${key}`]);
    const uploaded = await objectBytes(key);
    expect(uploaded.equals(fs.readFileSync(done.storedAt[0]))).toBe(true);
    const archive = `${tempDir()}/from-s3.zip`;
    fs.writeFileSync(archive, uploaded);
    expect((await readZip(archive)).map((e) => e.name)).toContain('webmunk-extension-element-show.txt');
  });
});
