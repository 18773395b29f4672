/**
 * Archiving to S3 (s3rver, through the AWS SDK's own settings): while the bucket is missing the
 * run fails and the month stays whole in its detached table (nothing dropped before the archive
 * is verified); the next run archives it; `dcs archive restore` brings every row back from S3.
 * Once-only (s3rver): not repeated on other Node and PostgreSQL versions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error -- s3rver ships no type declarations
import S3rverUntyped from 's3rver';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { createLogger } from '../../src/log.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { uploadPoints } from '../exports/support.ts';

const S3rver = S3rverUntyped as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
let s3server: InstanceType<typeof S3rver>;
let server: TestServer;
let env: Record<string, string>;
const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-archive-s3-'));

beforeAll(async () => {
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
  const { port } = await s3server.run();
  env = {
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    ARCHIVE_AFTER_MONTHS: '2', ARCHIVE_S3_BUCKET: 'study-archive', ARCHIVE_S3_PREFIX: 'pilot/', ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
  };
  for (const [name, value] of Object.entries(env)) if (name.startsWith('AWS_')) process.env[name] = value; // the SDK in this process
  server = await startTestServer(env);
});
afterAll(async () => {
  await server?.stop();
  await s3server?.close();
  fs.rmSync(s3Dir, { recursive: true, force: true });
});

const rows = async () => (await server.db.pool.query(`SELECT count(*)::int AS n, md5(string_agg(p::text, '|' ORDER BY created, content_digest)) AS digest FROM data_points p`)).rows[0];

it('keeps the month detached while S3 fails, archives it at the next run, and restores it from S3', async () => {
  const points = [0, 1, 2, 3].map((i) => {
    const [point] = samples(i);
    point['passive-data-metadata'] = { ...point['passive-data-metadata'], source: 's3-archive', timestamp: Date.parse(`2024-0${i + 1}-10T08:00:00Z`) / 1000 };
    return point;
  });
  await uploadPoints(server, points);
  const before = await rows();
  expect(before.n).toBe(4);
  const now = new Date(Date.UTC(new Date().getUTCFullYear() + 2, 0, 10));
  const ctx = { pool: server.db.pool, config: server.config, log: createLogger('silent') };

  await expect(maintainPartitions(ctx, now)).rejects.toThrow(/bucket/i);
  const waiting = await server.db.pool.query(`SELECT state FROM archived_partitions WHERE partition = 'data_points_history'`);
  expect(waiting.rows[0].state).toBe('detached');
  expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points_history`)).rows[0].n).toBe(4);

  const s3 = new S3Client({ forcePathStyle: true, region: 'us-east-1', endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'study-archive' }));
  const counts = await maintainPartitions(ctx, now);
  expect(counts.archivedRows).toBe(4);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'study-archive', Prefix: 'pilot/data_points/data_points_history/' }));
  expect(listed.Contents!.map((o) => o.Key).sort()).toEqual(['pilot/data_points/data_points_history/manifest.json', 'pilot/data_points/data_points_history/part-00001.parquet']);
  expect((await server.db.pool.query(`SELECT to_regclass('data_points_history') AS t`)).rows[0].t).toBeNull();

  const restore = await runDcs(['archive', 'restore', 'data_points_history'], { databaseUrl: server.db.url, env });
  expect(restore.code, restore.stderr).toBe(0);
  expect(restore.stdout).toContain('restored data_points_history: 4 points from s3://study-archive/pilot');
  expect(await rows()).toEqual(before);
});
