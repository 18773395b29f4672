/** ZIP files for the importer tests, written by a real ZIP writer (the exports' streamed archive), and byte surgery on them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchiveWriter } from '../../src/exports/archive.ts';

export interface FileInZip {
  name: string;
  data: string | Buffer;
}

/** A ZIP holding `files` in order, DEFLATE-compressed, as bytes. */
export async function zipOf(files: FileInZip[]): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-donation-zip-'));
  const file = path.join(dir, 'export.zip');
  try {
    const archive = new ArchiveWriter(file);
    for (const { name, data } of files) {
      const entry = archive.entry(name);
      if (typeof data === 'string') entry.write(data);
      else entry.writeBytes(data);
      await entry.close();
    }
    await archive.close();
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** Offsets of every central directory header and local header (the fixtures' data never holds the signatures). */
function headers(zip: Buffer, signature: number): number[] {
  const at: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (zip.readUInt32LE(i) === signature) at.push(i);
  return at;
}

/** The central directory header of `name`; its fields: flags +8, method +10, CRC +16, sizes +20/+24. */
export function centralHeaderOf(zip: Buffer, name: string): number {
  const found = headers(zip, CENTRAL_HEADER).find((at) => zip.toString('utf8', at + 46, at + 46 + zip.readUInt16LE(at + 28)) === name);
  if (found === undefined) throw new Error(`no central header for ${name}`);
  return found;
}

/** The local header of `name`; flags +6, method +8. */
export function localHeaderOf(zip: Buffer, name: string): number {
  const found = headers(zip, LOCAL_HEADER).find((at) => zip.toString('utf8', at + 30, at + 30 + zip.readUInt16LE(at + 26)) === name);
  if (found === undefined) throw new Error(`no local header for ${name}`);
  return found;
}
