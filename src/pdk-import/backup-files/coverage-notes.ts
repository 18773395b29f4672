/**
 * What backup files could not contain, said in the report: the original's hooks backed up some data
 * types only (issue 19 §3), wrote no `recorded`, and split each window into numbered files, so a
 * window with files missing shows as fewer points read than its files' names announce.
 */
import type { PointsFile } from './file-names.ts';

/** The types Webmunk's hook backs up (webmunk-server.md §5.6), one set of files each. */
export const WEBMUNK_BACKED_UP_TYPES = [
  'webmunk-extension-action', 'webmunk-extension-element-click', 'webmunk-extension-element-hide', 'webmunk-extension-element-show',
  'webmunk-extension-log-elements', 'webmunk-extension-matched-rule', 'webmunk-extension-scroll-position', 'webmunk-extension-class-added',
];

export const TYPES_NOT_IN_BACKUPS_NOTE = 'Backup files cannot hold every data type: the original\'s PDK backup wrote only types whose id starts with "pdk-", '
  + `and Webmunk's only ${WEBMUNK_BACKED_UP_TYPES.join(', ')}. Points of every other type (Amazon orders: webmunk-amazon-order and `
  + 'webmunk-amazon-order-count; local tasks: webmunk-local-tasks; history, REX and other modules\' types) are in no backup file: '
  + 'only the original\'s database has them (dcs import-pdk --database URL).';

export function recordedNote(timeZone: string): string {
  return 'Backup files do not hold a point\'s recorded time (the original wrote its properties only): each point was given the first day '
    + `of its file's window at 00:00 ${timeZone} (set TIME_ZONE to the original's). For the original's daily backups the day is right, `
    + 'the time of day is not; an import of the original\'s database keeps the exact time.';
}

/** The Webmunk types with no file among those found (none recorded in these windows, or files missing). */
export function missingWebmunkTypes(files: PointsFile[]): string | undefined {
  const found = new Set(files.filter((f) => f.writer === 'webmunk').map((f) => f.generatorId));
  const missing = WEBMUNK_BACKED_UP_TYPES.filter((t) => !found.has(t));
  if (missing.length === 0) return undefined;
  return `No Webmunk backup file (webmunk_backup_…) for ${missing.join(', ')}: none in these files' windows, or their files are not in this folder.`;
}

/**
 * One note per set of files (a backup run's window, and for Webmunk a type) whose points read differ
 * from the number in their names: files missing, damaged or not read.
 */
export function incompleteSetNotes(read: { file: PointsFile; points: number }[]): string[] {
  const sets = new Map<string, { label: string; total: number; points: number }>();
  for (const { file, points } of read) {
    const label = `${file.writer}_backup_${file.host}_${file.from}_${file.to}${file.generatorId ? `_${file.generatorId}` : ''}`;
    const set = sets.get(label) ?? { label, total: file.total, points: 0 };
    set.points += points;
    sets.set(label, set);
  }
  return [...sets.values()].filter((s) => s.points !== s.total)
    .map((s) => `${s.label}_data_points_…: ${s.points} points read of the ${s.total} its file names announce (files missing, damaged or not read).`);
}
