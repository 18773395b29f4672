/**
 * A place to keep files by key: a folder or an S3 bucket (with a prefix). Backups (`backup/`) and
 * archived months (`archive/`) both use it. Keys are relative paths with '/' (`a/b/manifest.json`).
 * A write is complete or absent: the folder writes a temporary file, fsyncs and renames it; S3
 * only creates an object when its upload completes (a single PUT checked by Content-MD5, or a
 * multipart upload). Whole files are streamed both ways: an archived month is terabytes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface ObjectStore {
  /** How the operator names it: the folder's path, or s3://bucket/prefix. */
  readonly name: string;
  put(key: string, bytes: Buffer): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Stores the file at `file` under `key`, streamed. */
  putFile(key: string, file: string): Promise<void>;
  /** Writes the object to `file`, streamed; false when there is none. */
  getFile(key: string, file: string): Promise<boolean>;
  /** Every key under `prefix` (a folder path ending in '/'), sorted. */
  list(prefix: string): Promise<string[]>;
}

export interface S3Location {
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

export function folderStore(root: string): ObjectStore {
  const resolved = path.resolve(root);
  const full = (key: string) => path.join(resolved, ...key.split('/'));
  /** Writes `target` through a temporary file that is fsynced and renamed: complete or absent. */
  async function writeWhole(target: string, write: (temporary: string) => Promise<void>): Promise<void> {
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.partial`;
    await write(temporary);
    const handle = await fsp.open(temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temporary, target);
  }
  return {
    name: resolved,
    put: (key, bytes) => writeWhole(full(key), (temporary) => fsp.writeFile(temporary, bytes)),
    putFile: (key, file) => writeWhole(full(key), (temporary) => fsp.copyFile(file, temporary)),
    async get(key) {
      return fsp.readFile(full(key)).catch((error: unknown) => {
        if (missing(error)) return undefined;
        throw error;
      });
    },
    async getFile(key, file) {
      try {
        await fsp.copyFile(full(key), file);
        return true;
      } catch (error) {
        if (missing(error)) return false;
        throw error;
      }
    },
    async list(prefix) {
      const dir = full(prefix);
      const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
        if (missing(error)) return [];
        throw error;
      });
      return entries
        .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
        .map((e) => prefix + path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
        .sort();
    },
  };
}

export function s3Store(location: S3Location): ObjectStore {
  const client = new S3Client({ forcePathStyle: location.forcePathStyle, maxAttempts: 5 });
  const prefix = location.prefix.replace(/^\/+|\/+$/g, '');
  const objectKey = (key: string) => (prefix ? `${prefix}/${key}` : key);
  const noSuchKey = (error: unknown) => error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';
  async function read<T>(key: string, use: (body: Readable) => Promise<T>): Promise<T | undefined> {
    try {
      const reply = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
      return await use(reply.Body as Readable);
    } catch (error) {
      if (noSuchKey(error)) return undefined;
      throw error;
    }
  }
  return {
    name: `s3://${location.bucket}${prefix ? `/${prefix}` : ''}`,
    async put(key, bytes) {
      const md5 = createHash('md5').update(bytes).digest('base64');
      await client.send(new PutObjectCommand({ Bucket: location.bucket, Key: objectKey(key), Body: bytes, ContentMD5: md5, ContentType: 'application/octet-stream' }));
    },
    async putFile(key, file) {
      // 16 MiB parts, 2 in flight: ~32 MiB in memory whatever the file's size.
      const upload = new Upload({ client, params: { Bucket: location.bucket, Key: objectKey(key), Body: fs.createReadStream(file) }, partSize: 16 * 1024 * 1024, queueSize: 2 });
      await upload.done();
    },
    get: (key) => read(key, async (body) => Buffer.concat(await body.toArray())),
    async getFile(key, file) {
      return (await read(key, async (body) => (await pipeline(body, fs.createWriteStream(file)), true))) ?? false;
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
