/**
 * The original's backup files, found by name in a folder and its subfolders (a downloaded S3 bucket
 * keeps the original's `<start>__<end>/` folders). Three kinds (pdk-server.md §11.1,
 * webmunk-server.md §5.6):
 *
 *   pdk_backup_<host>_<from>_<to>_data_points_<i>_<n>.pdk-bundle.bz2.encrypted
 *   pdk_backup_<host>_<from>_<to>_<model>.json-dumpdata.bz2.encrypted
 *   webmunk_backup_<host>_<from>_<to>_<generator-id>_data_points_<i>_<n>.webmunk-pd-bundle.gz.encrypted
 *
 * `<from>` and `<to>` are the days of the window (in the original's TIME_ZONE) whose `recorded`
 * points the file holds, `<i>` the file's first point in the window's list of `<n>`. The original
 * always encrypted what it sent; a name without `.encrypted` is a file its
 * `pdk_decrypt_backup_file` opened, read as it is. Any host name is read: the original's own
 * restore read only files of its ALLOWED_HOSTS[0] and silently did nothing with the others.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

interface FileWindow {
  /** Where the file is, and its name. */
  path: string;
  name: string;
  host: string;
  /** First and last day of the window, YYYY-MM-DD. */
  from: string;
  to: string;
  compression: 'bz2' | 'gzip';
  encrypted: boolean;
}

/** Stored points: a JSON array of the points' properties. */
export interface PointsFile extends FileWindow {
  kind: 'points';
  /** Which server's hook wrote it: PDK's (`pdk-*` types) or Webmunk's (one `webmunk-extension-*` type a file). */
  writer: 'pdk' | 'webmunk';
  /** Webmunk's files: the one data type the file holds. */
  generatorId?: string;
  /** The file's first point in the window's list, and the list's length. */
  offset: number;
  total: number;
}

/** A Django `dumpdata` of one model or app (`auth`, `passive_data_kitdatasource`, ...). */
export interface DumpFile extends FileWindow {
  kind: 'dumpdata';
  writer: 'pdk' | 'webmunk';
  model: string;
}

export type BackupFile = PointsFile | DumpFile;

export interface NotRead {
  path: string;
  reason: string;
}

const DAY = String.raw`\d{4}-\d{2}-\d{2}`;
const WINDOW = new RegExp(String.raw`^(pdk|webmunk)_backup_(.+?)_(${DAY})_(${DAY})_(.+)$`);
const PDK_POINTS = /^data_points_(\d+)_(\d+)\.pdk-bundle\.bz2$/;
const WEBMUNK_POINTS = /^(.+)_data_points_(\d+)_(\d+)\.webmunk-pd-bundle\.gz$/;
const DUMP = /^(.+)\.json-dumpdata\.bz2$/;

/** What a file name says, or why it is not a backup file this import reads. */
export function parseBackupFileName(filePath: string): BackupFile | NotRead {
  const name = path.basename(filePath);
  const window = WINDOW.exec(name);
  if (!window) return { path: filePath, reason: 'not named like a backup file of PDK or Webmunk (pdk_backup_… or webmunk_backup_…, with its two days)' };
  const [, writer, host, from, to, rest] = window as unknown as [string, 'pdk' | 'webmunk', string, string, string, string];
  const encrypted = rest.endsWith('.encrypted');
  const tail = encrypted ? rest.slice(0, -'.encrypted'.length) : rest;
  const common = { path: filePath, name, host, from, to, encrypted, writer };
  const points = writer === 'pdk' ? PDK_POINTS.exec(tail) : WEBMUNK_POINTS.exec(tail);
  if (points) {
    const [generatorId, offset, total] = writer === 'pdk' ? [undefined, points[1], points[2]] : [points[1], points[2], points[3]];
    return { ...common, kind: 'points', compression: writer === 'pdk' ? 'bz2' : 'gzip', generatorId, offset: Number(offset), total: Number(total) };
  }
  const dump = DUMP.exec(tail);
  if (dump) return { ...common, kind: 'dumpdata', compression: 'bz2', model: dump[1] };
  return { path: filePath, reason: `a ${writer}_backup file of a kind this import does not know (expected …data_points_<i>_<n>.${writer === 'pdk' ? 'pdk-bundle.bz2' : 'webmunk-pd-bundle.gz'}[.encrypted] or ….json-dumpdata.bz2[.encrypted])` };
}

/** Every file under `dir` (subfolders too), sorted by path so that runs read them in one order. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/**
 * The backup files under `dir`, oldest window first, and the files that are not backup files.
 * Points files come in the order of the original's list (window, then offset).
 */
export async function findBackupFiles(dir: string): Promise<{ files: BackupFile[]; notRead: NotRead[] }> {
  const files: BackupFile[] = [];
  const notRead: NotRead[] = [];
  for (const filePath of await listFiles(dir)) {
    const parsed = parseBackupFileName(filePath);
    if ('kind' in parsed) files.push(parsed);
    else notRead.push(parsed);
  }
  const order = (f: BackupFile) => [f.from, f.to, f.writer, f.kind === 'points' ? (f.generatorId ?? '') : f.model, f.kind === 'points' ? f.offset : 0, f.path] as const;
  files.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  });
  return { files, notRead };
}
