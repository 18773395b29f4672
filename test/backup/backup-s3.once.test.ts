/**
 * Backups to S3 (s3rver, through the AWS SDK's own settings) and a folder at once: a run while the
 * bucket is missing fails, is recorded and leaves the queue as it was; once the bucket exists the
 * job's next run writes the same files to both; `dcs restore --from s3://bucket/prefix` brings the
 * study back into a fresh database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error -- s3rver ships no type declarations
import S3rverUntyped from 's3rver';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBackupHealth } from '../../src/backup/backup-runs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { BACKUP_KEY, pointRows, studyPoints, tempDir } from './support.ts';

const S3rver = S3rverUntyped as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
let s3server: InstanceType<typeof S3rver>;
let server: TestServer;
let target: TestDatabase;
let env: Record<string, string>;
const backupDir = tempDir();
const s3Dir = tempDir();

beforeAll(async () => {
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
  const { port } = await s3server.run();
  const aws = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };
  env = { ...aws, BACKUP_KEY, BACKUP_DIR: backupDir, BACKUP_S3_BUCKET: 'study-backups', BACKUP_S3_PREFIX: 'pilot/', BACKUP_S3_FORCE_PATH_STYLE: 'true' };
  server = await startTestServer(env);
  target = await createTestDatabase();
});
afterAll(async () => {
  await server?.stop();
  await target?.drop();
  await s3server?.close();
  for (const dir of [backupDir, s3Dir]) fs.rmSync(dir, { recursive: true, force: true });
});

it('fails while the bucket is missing, then backs up to S3 and the folder, and restores from S3', async () => {
  for (let i = 0; i < 3; i += 1) await postGzip(server, studyPoints(`s3-${i}`, 50));
  await server.process();

  const failed = await runDcs(['run-job', 'backup'], { databaseUrl: server.db.url, env });
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/backup failed after .*bucket/i);
  let health = await readBackupHealth(server.db.pool);
  expect(health).toMatchObject({ lastSuccess: null, failuresSince: 1, queued: 3 });
  expect(health.lastFailure?.error).toMatch(/bucket/i);
  // Inside the back-off the job does nothing; a forced run does not wait.
  expect((await runDcs(['run-job', 'backup'], { databaseUrl: server.db.url, env })).stdout).toContain('{"due":0}');

  const s3 = new S3Client({ forcePathStyle: true, region: 'us-east-1', endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'study-backups' }));
  const run = await runDcs(['backup', 'run'], { databaseUrl: server.db.url, env });
  expect(run.code, run.stderr).toBe(0);
  health = await readBackupHealth(server.db.pool);
  expect(health).toMatchObject({ failuresSince: 0, queued: 0, lastSuccess: { bundles: 3, destinations: [backupDir, 's3://study-backups/pilot'] } });

  // The same files in both places; the folder also keeps what the failed run wrote before it failed,
  // a run without a manifest, which list shows as incomplete and restore never reads.
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'study-backups' }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
  const runFolder = `dcs-backup/${health.lastSuccess!.name}`;
  const inFolder = fs.readdirSync(path.join(backupDir, runFolder)).map((name) => `pilot/${runFolder}/${name}`).sort();
  expect(keys).toEqual(inFolder);
  expect(keys).toContain(`pilot/${runFolder}/manifest.json`);
  const list = await runDcs(['backup', 'list'], { databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env });
  expect(list.stdout).toMatch(/: 1 backup runs\n.* 3 bundles.*\n.*incomplete \(no manifest/);

  const verify = await runDcs(['backup', 'verify', '--from', 's3://study-backups/pilot'], { databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env });
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const restore = await runDcs(['restore', '--from', 's3://study-backups/pilot'], { databaseUrl: target.url, env });
  expect(restore.code, restore.stderr).toBe(0);
  expect(await pointRows(target.pool)).toEqual(await pointRows(server.db.pool));
  expect((await pointRows(target.pool)).length).toBe(150);
});
