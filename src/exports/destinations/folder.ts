/**
 * The folder destination (EXPORT_DIR): archives are written under `.partial/` beside it and
 * renamed into place when complete, so a half-written archive never carries a final name and a
 * crash leaves nothing a download or a sync tool could mistake for a finished export.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A fresh, unique path to write an archive to (the original used a fixed temp name per type). */
export async function partialPath(exportDir: string, jobId: number): Promise<string> {
  const dir = path.join(exportDir, '.partial');
  await fs.mkdir(dir, { recursive: true });
  return path.join(dir, `${jobId}-${randomBytes(6).toString('hex')}.zip`);
}

/** Moves a finished archive to `<exportDir>/<fileName>` (fileName may hold a `<day>/` folder). */
export async function storeInFolder(partial: string, exportDir: string, fileName: string): Promise<string> {
  const target = path.resolve(exportDir, fileName);
  if (!target.startsWith(path.resolve(exportDir) + path.sep)) throw new Error(`export file name "${fileName}" leaves EXPORT_DIR`);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rename(partial, target);
  return target;
}

/** Copies to a path outside EXPORT_DIR (dcs export --out), through a temporary name beside it. */
export async function storeAsFile(partial: string, target: string): Promise<string> {
  const resolved = path.resolve(target);
  await fs.mkdir(path.dirname(resolved), { recursive: true });
  const temporary = `${resolved}.partial-${randomBytes(4).toString('hex')}`;
  await fs.copyFile(partial, temporary);
  await fs.rename(temporary, resolved);
  await fs.rm(partial, { force: true });
  return resolved;
}
