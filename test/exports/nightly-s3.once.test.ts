/**
 * The nightly export to S3, end to end: a real (fake) S3 (s3rver) reached through the AWS SDK's
 * own environment variables (AWS_ENDPOINT_URL, credentials, region), the original's key layout
 * under EXPORT_S3_PREFIX, and a failed upload that fails the job until it is retried.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error -- s3rver ships no type declarations
import S3rverUntyped from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { queueNightlyDay } from '../../src/exports/nightly.ts';
import { claimNextReportJob, getReportJob, listReportJobs, retryReportJob } from '../../src/exports/report-jobs.repository.ts';
import { runReportJob } from '../../src/exports/run-report-job.ts';
import { dayIn } from '../helpers/days.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { readZip, tempDir, tsvRows, uploadPoints } from './support.ts';

const S3rver = S3rverUntyped as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
const log = createLogger('silent');
const exportDir = tempDir();
let s3server: InstanceType<typeof S3rver>;
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir() });
  const { port } = await s3server.run();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
  s3 = new S3Client({ forcePathStyle: true });
  server = await startTestServer({ EXPORT_DIR: exportDir, EXPORT_S3_BUCKET: 'study-exports', EXPORT_S3_PREFIX: 'pilot/', EXPORT_S3_FORCE_PATH_STYLE: 'true', PUBLIC_URL: 'https://dcs.example.edu/' });
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
    const day = dayIn(server.config.timeZone);
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

describe('dcs export nightly --date, then --from/--to, to S3', () => {
  it('replaces the night\'s objects under the same keys, listing each: as many objects as jobs, the second run\'s content', async () => {
    const day = dayIn(server.config.timeZone);
    const tomorrow = dayIn(server.config.timeZone, 1);
    await uploadPoints(server, ['s3-a', 's3-b', 's3-c'].map((source) => {
      const [point] = samples(2);
      point['passive-data-metadata']!.source = source;
      return point;
    }));
    const env = {
      EXPORT_DIR: exportDir, EXPORT_S3_BUCKET: 'study-exports', EXPORT_S3_PREFIX: 'pilot/', EXPORT_S3_FORCE_PATH_STYLE: 'true', PUBLIC_URL: 'https://dcs.example.edu/', SOURCES_PER_REPORT_JOB: '2',
      AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
    };
    const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: 'study-exports', Prefix: `pilot/${day}/` }))).Contents ?? []).map((o) => o.Key!).sort();
    const nightJobs = async () => (await listReportJobs(server.db.pool, 1000)).filter((job) => job.batch === `nightly:${day}`).sort((a, b) => a.id - b.id);

    const first = await runDcs(['export', 'nightly', '--date', tomorrow], { databaseUrl: server.db.url, env });
    expect(first.stderr).not.toMatch(/failed/);
    expect(first.code).toBe(0);
    const jobs = await nightJobs();
    expect(jobs.length).toBeGreaterThan(1);
    expect(jobs.every((job) => job.state === 'done')).toBe(true);
    const expectedKeys = jobs.map((job) => `pilot/${job.fileName}`).sort();
    expect(await keys()).toEqual(expectedKeys);

    // a late point of s3-b; the re-run replaces the objects, it adds none
    const [late] = samples(2);
    late['passive-data-metadata']!.source = 's3-b';
    late['passive-data-metadata']!.timestamp = 1580644800; // 2020-02-02T12:00:00Z
    await uploadPoints(server, [late]);
    const second = await runDcs(['export', 'nightly', '--from', day, '--to', day], { databaseUrl: server.db.url, env });
    expect(second.code).toBe(0);
    for (const job of jobs) {
      expect(second.stderr).toContain(`replaced s3://study-exports/pilot/${job.fileName}`);
      expect(second.stderr).toContain(`replaced ${job.storedAt[0]}`);
    }
    expect((await nightJobs()).map((job) => [job.id, job.fileName, job.state])).toEqual(jobs.map((job) => [job.id, job.fileName, 'done']));
    expect(await keys()).toEqual(expectedKeys);
    const withB = jobs.find((job) => job.sources.includes('s3-b'))!;
    const archive = `${tempDir()}/from-s3.zip`;
    fs.writeFileSync(archive, await objectBytes(`pilot/${withB.fileName}`));
    const show = tsvRows((await readZip(archive)).find((e) => e.name === 'webmunk-extension-element-show.txt')!.data);
    expect(show.slice(1).map((row) => row[1])).toContain('2020-02-02T07:00:00-05:00');
  });
});
