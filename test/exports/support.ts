/** Uploading points over HTTP, writing an export, and reading an archive back with yauzl. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import type { ExportRequest } from '../../src/exports/export-request.ts';
import { writeExport } from '../../src/exports/write-export.ts';
import type { TestServer } from '../helpers/server.ts';
import { FORM, gzipForm } from '../helpers/samples.ts';

export async function uploadPoints(server: TestServer, points: unknown[]): Promise<void> {
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(points) });
  if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
  await server.process();
}

export interface ZipEntry {
  name: string;
  /** 8 = DEFLATE, 0 = stored, 12 = BZIP2 */
  method: number;
  data: Buffer;
}

export function readZip(filePath: string): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(filePath, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: ZipEntry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({ name: entry.fileName, method: entry.compressionMethod, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-export-'));
}

/** Rows of a TSV entry, split on CRLF and tabs (tests use cells without quotes unless they check quoting). */
export function tsvRows(data: Buffer): string[][] {
  const text = data.toString('utf8');
  return text.split('\r\n').filter((line, i, all) => i < all.length - 1 || line !== '').map((line) => line.split('\t'));
}

export async function exportArchive(server: TestServer, request: Partial<ExportRequest> & { types: string[]; sources: string[] }, env: { serverSecretKey?: Uint8Array; timeZone?: string } = {}): Promise<Map<string, ZipEntry>> {
  const file = path.join(tempDir(), 'export.zip');
  await writeExport(
    { pool: server.db.pool, timeZone: env.timeZone ?? server.config.timeZone, serverSecretKey: env.serverSecretKey, labels: new Map(), serverVersion: 'test', publicUrl: server.config.publicUrl },
    { dateType: 'created', format: 'tsv', ...request },
    file,
  );
  const entries = await readZip(file);
  return new Map(entries.map((entry) => [entry.name, entry]));
}
