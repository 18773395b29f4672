/**
 * One backup run: the queued bundles (backup_queue: every bundle inserted since the last run, by
 * whatever path, committed late or not) and the small tables, as sealed files of at most
 * BACKUP_FILE_MB, written to every destination, then the manifest. Only once the manifest is
 * written everywhere do the bundles leave the queue: a run that fails anywhere leaves the queue as
 * it was, and the next run (or a retry) writes them again. Nothing is ever deleted from the study's
 * data because of a backup, failed or not.
 */
import type { Logger } from 'pino';
import type { Pool } from '../db/database.ts';
import { BACKUP_ROOT, BackupError, keyIdOf, lineSealer, MANIFEST_FORMAT, runName, sha256Of, type Manifest, type ManifestFile } from './backup-file.ts';
import type { BackupStore } from './backup-store.ts';
import { bundleLines, dequeue, failRun, finishRun, queuedBundles, readSmallTable, startRun } from './backup-runs.repository.ts';
import { SMALL_TABLES } from './small-tables.ts';

/** Bundles read from the database at once: bounded by bytes too (FETCH_BYTES), bodies can be large. */
const FETCH_BUNDLES = 200;
const FETCH_BYTES = 8 * 1024 * 1024;
/**
 * Stored bundle bytes one run takes at most: the first backup of a large study is then a series of
 * runs, each complete with its manifest, so a crash or a restart loses at most one run's work.
 */
export const RUN_MAX_BYTES = 1024 ** 3;

export interface BackupSettings {
  key: Uint8Array;
  stores: BackupStore[];
  fileBytes: number;
  /** RUN_MAX_BYTES, smaller in tests */
  runMaxBytes: number;
}

/** Collects lines into files of at most `fileBytes` (before compression), sealing and writing each to every store. */
function fileWriter(settings: BackupSettings, runFolder: string, files: ManifestFile[]) {
  let open: { kind: ManifestFile['kind']; sealer: ReturnType<typeof lineSealer>; records: number; size: number; firstBundle?: number; lastBundle?: number } | undefined;
  async function flush(): Promise<void> {
    if (!open) return;
    const { kind, sealer, records, firstBundle, lastBundle } = open;
    open = undefined;
    const sealed = await sealer.seal();
    const key = `${runFolder}${kind}-${String(files.length + 1).padStart(5, '0')}.jsonl.gz.secretbox`;
    const file: ManifestFile = { key, kind, sha256: sha256Of(sealed), bytes: sealed.length, records };
    if (kind === 'bundles') Object.assign(file, { firstBundle, lastBundle });
    await writeEverywhere(settings.stores, key, sealed);
    files.push(file);
  }
  return {
    async add(kind: ManifestFile['kind'], line: string, bundleId?: number): Promise<void> {
      if (open && (open.kind !== kind || open.size + line.length > settings.fileBytes)) await flush();
      open ??= { kind, sealer: lineSealer(settings.key), records: 0, size: 0 };
      if (bundleId !== undefined) {
        open.firstBundle ??= bundleId;
        open.lastBundle = bundleId;
      }
      await open.sealer.add(line);
      open.records += 1;
      open.size += line.length + 1;
    },
    flush,
  };
}

/** Writes to every store and reads it back: a file that does not come back whole fails the run. */
async function writeEverywhere(stores: BackupStore[], key: string, bytes: Buffer): Promise<void> {
  for (const store of stores) {
    await store.put(key, bytes);
    const back = await store.get(key);
    if (!back || !back.equals(bytes)) throw new BackupError(`${store.name}: ${key} did not read back as written.`);
  }
}

export interface BackupOutcome {
  name: string;
  /** Bundles still queued beyond RUN_MAX_BYTES: the next run takes them. */
  remaining: number;
  bundles: number;
  files: number;
  bytes: number;
  tableRows: number;
}

export async function runBackup(pool: Pool, settings: BackupSettings, log: Logger): Promise<BackupOutcome> {
  const startedAt = new Date();
  const name = runName(startedAt);
  const run = await startRun(pool, name, settings.stores.map((s) => s.name));
  try {
    const runFolder = `${BACKUP_ROOT}${name}/`;
    const files: ManifestFile[] = [];
    const writer = fileWriter(settings, runFolder, files);
    const all = await queuedBundles(pool);
    let taken = 0;
    for (let total = 0; taken < all.length && (taken === 0 || total + all[taken].bytes <= settings.runMaxBytes); taken += 1) total += all[taken].bytes;
    const queued = all.slice(0, taken);
    const done: number[] = [];
    let firstReceived: string | null = null;
    let lastReceived: string | null = null;
    for (let i = 0; i < queued.length;) {
      const ids: number[] = [];
      for (let bytes = 0; i < queued.length && ids.length < FETCH_BUNDLES && (ids.length === 0 || bytes + queued[i].bytes <= FETCH_BYTES); i += 1) {
        ids.push(queued[i].id);
        bytes += queued[i].bytes;
      }
      for (const bundle of await bundleLines(pool, ids)) {
        await writer.add('bundles', bundle.line, bundle.id);
        done.push(bundle.id);
        if (firstReceived === null || bundle.receivedAt < firstReceived) firstReceived = bundle.receivedAt;
        if (lastReceived === null || bundle.receivedAt > lastReceived) lastReceived = bundle.receivedAt;
      }
    }
    await writer.flush();
    const tables: Record<string, number> = {};
    for (const table of SMALL_TABLES) {
      tables[table.table] = 0;
      await readSmallTable(pool, table, run.productsSince, async (rows) => {
        for (const row of rows) await writer.add('tables', `{"t":${JSON.stringify(table.table)},"r":${row}}`);
        tables[table.table] += rows.length;
      });
    }
    await writer.flush();

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      keyId: keyIdOf(settings.key),
      bundles: { count: done.length, firstBundle: done[0] ?? null, lastBundle: done.at(-1) ?? null, firstReceived, lastReceived },
      tables,
      files,
    };
    await writeEverywhere(settings.stores, `${runFolder}manifest.json`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    await dequeue(pool, done);
    const totals = {
      bundles: done.length, firstBundle: done[0] ?? null, lastBundle: done.at(-1) ?? null, files: files.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0), tableRows: Object.values(tables).reduce((a, b) => a + b, 0),
    };
    await finishRun(pool, run.id, totals);
    log.info({ backup: name, ...totals }, 'backup written');
    return { name, remaining: all.length - taken, bundles: totals.bundles, files: totals.files, bytes: totals.bytes, tableRows: totals.tableRows };
  } catch (error) {
    await failRun(pool, run.id, (error as Error).message).catch(() => undefined);
    throw error;
  }
}
