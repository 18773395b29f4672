/**
 * Reading what a destination holds: its runs (by their manifests, oldest first) and their files,
 * each checked against its manifest (present, same size and sha256) before anything uses it.
 */
import { BACKUP_ROOT, BackupError, checkFile, keyIdOf, MANIFEST_FORMAT, openLines, type Manifest, type ManifestFile } from './backup-file.ts';
import type { BackupStore } from './backup-store.ts';

export interface StoredRuns {
  runs: Manifest[];
  /** Run folders without a manifest: a run that failed or is still being written; never used. */
  incomplete: string[];
}

export async function readRuns(store: BackupStore): Promise<StoredRuns> {
  const keys = await store.list(BACKUP_ROOT);
  const folders = [...new Set(keys.map((k) => k.slice(BACKUP_ROOT.length).split('/')[0]))].sort();
  const runs: Manifest[] = [];
  const incomplete: string[] = [];
  for (const folder of folders) {
    const bytes = keys.includes(`${BACKUP_ROOT}${folder}/manifest.json`) ? await store.get(`${BACKUP_ROOT}${folder}/manifest.json`) : undefined;
    if (!bytes) {
      incomplete.push(folder);
      continue;
    }
    let manifest: Manifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new BackupError(`${store.name}: ${BACKUP_ROOT}${folder}/manifest.json is not valid JSON (damaged).`);
    }
    if (manifest.format !== MANIFEST_FORMAT) throw new BackupError(`${store.name}: ${folder} is not a backup of this server (format ${String(manifest.format)}).`);
    runs.push(manifest);
  }
  return { runs, incomplete };
}

/** A run's manifest names the key it was made with; another key cannot open it (said before any file is read). */
export function checkKey(manifest: Manifest, key: Uint8Array): void {
  if (manifest.keyId !== keyIdOf(key)) {
    throw new BackupError(`Backup ${manifest.name} was made with another key (key id ${manifest.keyId}, this one is ${keyIdOf(key)}): give the BACKUP_KEY it was made with.`);
  }
}

/** A file's lines, after checking it against the manifest and that it holds as many lines as the manifest says. */
export async function readFileLines(store: BackupStore, file: ManifestFile, key: Uint8Array): Promise<string[]> {
  const bytes = checkFile(await store.get(file.key), file, store.name);
  const lines = await openLines(bytes, key, file.key);
  if (lines.length !== file.records) throw new BackupError(`${store.name}: ${file.key} holds ${lines.length} records, its manifest says ${file.records}.`);
  return lines;
}

/** Checks that every file of `runs` is present with its sha256 (without opening it). */
export async function checkFilesPresent(store: BackupStore, runs: Manifest[]): Promise<void> {
  for (const run of runs) for (const file of run.files) checkFile(await store.get(file.key), file, store.name);
}
