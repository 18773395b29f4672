/**
 * Where backups go and come back from: a folder or an S3 bucket (either, both). Keys are relative
 * paths (`dcs-backup/<run>/manifest.json`). A write is complete or absent: the folder writes a
 * temporary file, fsyncs and renames it; S3 checks the body against its Content-MD5.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.ts';

export interface BackupStore {
  /** How the operator names it: the folder's path, or s3://bucket/prefix. */
  readonly name: string;
  put(key: string, bytes: Buffer): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Every key under `prefix` (a folder path ending in '/'), sorted. */
  list(prefix: string): Promise<string[]>;
}

export function folderStore(root: string): BackupStore {
  const resolved = path.resolve(root);
  const full = (key: string) => path.join(resolved, ...key.split('/'));
  return {
    name: resolved,
    async put(key, bytes) {
      const target = full(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const temporary = `${target}.partial`;
      const handle = await fs.open(temporary, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temporary, target);
    },
    async get(key) {
      return fs.readFile(full(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
    },
    async list(prefix) {
      const dir = full(prefix);
      const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      return entries
        .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
        .map((e) => prefix + path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
        .sort();
    },
  };
}

export interface S3Location {
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
}

export function s3Store(location: S3Location): BackupStore {
  const client = new S3Client({ forcePathStyle: location.forcePathStyle, maxAttempts: 5 });
  const prefix = location.prefix.replace(/^\/+|\/+$/g, '');
  const objectKey = (key: string) => (prefix ? `${prefix}/${key}` : key);
  return {
    name: `s3://${location.bucket}${prefix ? `/${prefix}` : ''}`,
    async put(key, bytes) {
      const md5 = createHash('md5').update(bytes).digest('base64');
      await client.send(new PutObjectCommand({ Bucket: location.bucket, Key: objectKey(key), Body: bytes, ContentMD5: md5, ContentType: 'application/octet-stream' }));
    },
    async get(key) {
      try {
        const reply = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
        return Buffer.from(await reply.Body!.transformToByteArray());
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async list(under) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: objectKey(under), ContinuationToken: token }));
        for (const object of page.Contents ?? []) keys.push(prefix ? object.Key!.slice(prefix.length + 1) : object.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
  };
}

/** `s3://bucket/prefix` or a folder path, as `dcs restore --from` and `dcs backup verify --from` take it. */
export function storeFromArgument(destination: string, forcePathStyle: boolean): BackupStore {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(destination);
  return s3 ? s3Store({ bucket: s3[1], prefix: s3[2], forcePathStyle }) : folderStore(destination);
}

/** The destinations configured (BACKUP_DIR, BACKUP_S3_*); none: backups cannot run. */
export function configuredStores(config: Config): BackupStore[] {
  const stores: BackupStore[] = [];
  if (config.backupDir) stores.push(folderStore(config.backupDir));
  if (config.backupS3Bucket) stores.push(s3Store({ bucket: config.backupS3Bucket, prefix: config.backupS3Prefix, forcePathStyle: config.backupS3ForcePathStyle }));
  return stores;
}
