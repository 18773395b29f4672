/**
 * `dcs backup verify`: downloads every run at a destination, checks every file's sha256 against
 * its manifest, decrypts it, and counts its records and bundle ids against the manifest, without
 * touching the database. Every problem is listed, not just the first.
 */
import { BackupError } from './backup-file.ts';
import type { BackupStore } from './backup-store.ts';
import { checkKey, readFileLines, readRuns } from './read-backups.ts';

export interface VerifyReport {
  runs: number;
  files: number;
  bundles: number;
  tableRows: number;
  incomplete: string[];
  problems: string[];
}

export async function verifyBackups(store: BackupStore, key: Uint8Array): Promise<VerifyReport> {
  const { runs, incomplete } = await readRuns(store);
  const report: VerifyReport = { runs: runs.length, files: 0, bundles: 0, tableRows: 0, incomplete, problems: [] };
  for (const run of runs) {
    try {
      checkKey(run, key);
    } catch (error) {
      report.problems.push((error as Error).message);
      continue;
    }
    let bundles = 0;
    for (const file of run.files) {
      try {
        const lines = await readFileLines(store, file, key);
        report.files += 1;
        if (file.kind === 'tables') {
          report.tableRows += lines.length;
          continue;
        }
        const ids = lines.map((line) => (JSON.parse(line) as { id: number }).id);
        if (ids[0] !== file.firstBundle || ids.at(-1) !== file.lastBundle) {
          report.problems.push(`${store.name}: ${file.key} holds bundles ${ids[0]}–${ids.at(-1)}, its manifest says ${file.firstBundle}–${file.lastBundle}.`);
        }
        bundles += lines.length;
      } catch (error) {
        if (!(error instanceof BackupError) && !(error instanceof SyntaxError)) throw error;
        report.problems.push(error instanceof BackupError ? error.message : `${store.name}: ${file.key} holds a line that is not JSON.`);
      }
    }
    if (bundles !== run.bundles.count && !report.problems.some((p) => p.includes(run.name))) {
      report.problems.push(`${store.name}: run ${run.name} holds ${bundles} bundles, its manifest says ${run.bundles.count}.`);
    }
    report.bundles += bundles;
  }
  return report;
}
