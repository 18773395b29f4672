/**
 * `dcs restore --from DEST [--until TIME] [--merge]`: every run at DEST is checked against its
 * manifest first (every file present, same sha256), then the small tables are loaded (from the
 * newest run, or the newest one started by --until; Amazon products from every run up to it,
 * newest copy winning), then every bundle (received by --until), as pending bundles that keep
 * their points' `recorded` time. Processing then rebuilds the points (the CLI runs it in the
 * foreground). Into a database with study data only with --merge, and then idempotently: a bundle
 * already here (same receipt, or same receipt time and body) is not loaded again.
 */
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import { BackupError, type Manifest } from './backup-file.ts';
import type { BackupStore } from './backup-store.ts';
import { checkFilesPresent, checkKey, readFileLines, readRuns } from './read-backups.ts';
import { holdsStudyData, insertBundles, insertTableRows, type BackedUpBundle } from './restore.repository.ts';
import { SMALL_TABLES } from './small-tables.ts';

const BUNDLES_PER_INSERT = 100;
const ROWS_PER_INSERT = 500;

export interface RestoreOptions {
  until?: Date;
  merge: boolean;
  onProgress?: (line: string) => void;
}

export interface RestoreOutcome {
  runs: number;
  bundlesRead: number;
  bundlesLoaded: number;
  /** Bundles of the backup received after --until (left out). */
  bundlesAfterUntil: number;
  tableRows: Record<string, number>;
}

/** The runs whose small tables count: all up to the newest one started by --until. */
function tableRuns(runs: Manifest[], until: Date | undefined): Manifest[] {
  const usable = until ? runs.filter((r) => new Date(r.startedAt) <= until) : runs;
  if (usable.length === 0) throw new BackupError(until ? `No backup run started by ${until.toISOString()}.` : 'The destination holds no backup.');
  return usable;
}

async function restoreTables(pool: Pool, store: BackupStore, key: Uint8Array, runs: Manifest[], outcome: RestoreOutcome): Promise<void> {
  const newest = runs.at(-1)!;
  const rows = new Map<string, string[]>(SMALL_TABLES.map((t) => [t.table, []]));
  // Every run's Amazon products (each run holds those changed since the previous one): the newest copy of each.
  const products = new Map<string, string>();
  for (const run of runs) {
    for (const file of run.files.filter((f) => f.kind === 'tables')) {
      for (const line of await readFileLines(store, file, key)) {
        const { t, r } = JSON.parse(line) as { t: string; r: { asin?: string } };
        if (t === 'amazon_products') products.set(r.asin!, JSON.stringify(r));
        else if (run === newest) rows.get(t)?.push(JSON.stringify(r));
      }
    }
  }
  rows.set('amazon_products', [...products.values()]);
  for (const table of SMALL_TABLES) {
    const list = rows.get(table.table)!;
    outcome.tableRows[table.table] = 0;
    for (let i = 0; i < list.length; i += ROWS_PER_INSERT) {
      outcome.tableRows[table.table] += await insertTableRows(pool, table, list.slice(i, i + ROWS_PER_INSERT));
    }
  }
}

export async function restoreBackup(pool: Pool, store: BackupStore, key: Uint8Array, options: RestoreOptions): Promise<RestoreOutcome> {
  const say = options.onProgress ?? (() => undefined);
  if (!options.merge && (await holdsStudyData(pool))) {
    throw new BackupError('This database already holds bundles or points: restore into an empty database, or add --merge to add what it lacks.');
  }
  const { runs } = await readRuns(store);
  if (runs.length === 0) throw new BackupError(`${store.name} holds no backup.`);
  for (const run of runs) checkKey(run, key);
  say(`Checking ${runs.reduce((n, r) => n + r.files.length, 0)} files of ${runs.length} backup runs against their manifests…`);
  await checkFilesPresent(store, runs);

  const outcome: RestoreOutcome = { runs: runs.length, bundlesRead: 0, bundlesLoaded: 0, bundlesAfterUntil: 0, tableRows: {} };
  await restoreTables(pool, store, key, tableRuns(runs, options.until), outcome);
  say(`Small tables: ${Object.entries(outcome.tableRows).map(([t, n]) => `${t} ${n}`).join(', ')}.`);

  // A bundle may be in two runs (a run that failed after writing it): the first copy is loaded.
  const seen = new Set<number>();
  const total = runs.reduce((n, r) => n + r.bundles.count, 0);
  for (const run of runs) {
    for (const file of run.files.filter((f) => f.kind === 'bundles')) {
      const bundles: BackedUpBundle[] = [];
      for (const line of await readFileLines(store, file, key)) {
        const bundle = JSON.parse(line) as BackedUpBundle;
        outcome.bundlesRead += 1;
        if (seen.has(bundle.id)) continue;
        seen.add(bundle.id);
        if (options.until && new Date(bundle.received_at) > options.until) outcome.bundlesAfterUntil += 1;
        else bundles.push(bundle);
      }
      for (let i = 0; i < bundles.length; i += BUNDLES_PER_INSERT) {
        outcome.bundlesLoaded += await withTransaction(pool, (client) => insertBundles(client, bundles.slice(i, i + BUNDLES_PER_INSERT)));
      }
      say(`Bundles: ${outcome.bundlesRead} of ${total} read, ${outcome.bundlesLoaded} loaded.`);
    }
  }
  return outcome;
}
