/**
 * Where archived months go and come back from: a folder (ARCHIVE_DIR) or an S3 bucket
 * (ARCHIVE_S3_BUCKET, ARCHIVE_S3_PREFIX; region, credentials and endpoint from the AWS SDK's own
 * variables, as for exports). Files are streamed both ways: a month of a large study is
 * terabytes. A file is complete or absent: the folder writes a temporary file, fsyncs and renames
 * it; S3's multipart upload only creates the object when it completes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config.ts';

export interface ArchiveStore {
  /** How the operator names it: the folder's path, or s3://bucket/prefix. */
  readonly name: string;
  putFile(key: string, file: string): Promise<void>;
  /** Writes the object to `file`; false when there is none. */
  getFile(key: string, file: string): Promise<boolean>;
  /** Every key under `prefix` (ending in '/'), sorted. */
  list(prefix: string): Promise<string[]>;
}

export function folderArchiveStore(root: string): ArchiveStore {
  const resolved = path.resolve(root);
  const full = (key: string) => path.join(resolved, ...key.split('/'));
  return {
    name: resolved,
    async putFile(key, file) {
      const target = full(key);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const temporary = `${target}.partial`;
      await fsp.copyFile(file, temporary);
      const handle = await fsp.open(temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temporary, target);
    },
    async getFile(key, file) {
      try {
        await fsp.copyFile(full(key), file);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
    async list(prefix) {
      const dir = full(prefix);
      const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
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

export function s3ArchiveStore(location: { bucket: string; prefix: string; forcePathStyle: boolean }): ArchiveStore {
  const client = new S3Client({ forcePathStyle: location.forcePathStyle, maxAttempts: 5 });
  const prefix = location.prefix.replace(/^\/+|\/+$/g, '');
  const objectKey = (key: string) => (prefix ? `${prefix}/${key}` : key);
  return {
    name: `s3://${location.bucket}${prefix ? `/${prefix}` : ''}`,
    async putFile(key, file) {
      // 16 MiB parts, 2 in flight: ~32 MiB in memory whatever the file's size.
      const upload = new Upload({ client, params: { Bucket: location.bucket, Key: objectKey(key), Body: fs.createReadStream(file) }, partSize: 16 * 1024 * 1024, queueSize: 2 });
      await upload.done();
    },
    async getFile(key, file) {
      try {
        const reply = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
        await pipeline(reply.Body as Readable, fs.createWriteStream(file));
        return true;
      } catch (error) {
        if (error instanceof NoSuchKey) return false;
        throw error;
      }
    },
    async list(listPrefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: objectKey(listPrefix), ContinuationToken: token }));
        for (const object of page.Contents ?? []) keys.push(prefix ? object.Key!.slice(prefix.length + 1) : object.Key!);
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
  };
}

/** The store the configuration names, or undefined: none is set. */
export function configuredArchiveStore(config: Pick<Config, 'archiveDir' | 'archiveS3'>): ArchiveStore | undefined {
  if (config.archiveDir) return folderArchiveStore(config.archiveDir);
  if (config.archiveS3) return s3ArchiveStore(config.archiveS3);
  return undefined;
}
