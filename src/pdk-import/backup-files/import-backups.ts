/**
 * `dcs import-pdk --backups DIR`: every backup file of an original PDK / Webmunk server found under
 * DIR, whatever its host name, into this server: the points as bundles (processing then stores them,
 * deduplicated), the groups and sources from the newest `dumpdata` copies; configurations are handed
 * back for the caller to save through app-config. A file that cannot be read is reported and the
 * others are still imported. The report says what the files could not contain.
 */
import type { Pool } from '../../db/database.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { Logger } from '../../log.ts';
import { createImportReport, type ImportReport } from '../import-report.ts';
import { incompleteSetNotes, missingWebmunkTypes, recordedNote, TYPES_NOT_IN_BACKUPS_NOTE } from './coverage-notes.ts';
import { readDumpFiles, type OriginalConfiguration } from './dumpdata.ts';
import { findBackupFiles, type DumpFile, type PointsFile } from './file-names.ts';
import { importPointsFile } from './import-points-file.ts';
import { addMissingGroups, addSourceDetails } from './small-tables.repository.ts';

export interface BackupImportOptions {
  dir: string;
  /** The original's PDK_BACKUP_KEY; without it only unencrypted files can be read. */
  key: Uint8Array | undefined;
  /** The original's TIME_ZONE, which named the files' days (recordedOf). */
  timeZone: string;
  /** Largest point read (MAX_POINT_BYTES): processing refuses larger ones anyway. */
  maxPointBytes: number;
  log: Logger;
  /** After each file of points. */
  onProgress?: (progress: { files: number; of: number; points: number }) => void;
}

export interface BackupImport {
  report: ImportReport;
  /** Files that could not be read (whole or to their end). */
  failedFiles: number;
  /** The original's configurations, for app-config to save (pdk-import may not import it). */
  configurations: OriginalConfiguration[];
  /** Sources the original served a configuration directly: identifier → configuration name. */
  assignments: Map<string, string>;
}

export async function importPdkBackups(pool: Pool, options: BackupImportOptions): Promise<BackupImport> {
  const report = createImportReport();
  const { files, notRead } = await findBackupFiles(options.dir);
  for (const file of notRead) report.notes.push(`Not read: ${file.path}: ${file.reason}.`);
  const pointsFiles = files.filter((f): f is PointsFile => f.kind === 'points');
  const dumpFiles = files.filter((f): f is DumpFile => f.kind === 'dumpdata');
  let failedFiles = 0;

  const read: { file: PointsFile; points: number }[] = [];
  const readNames = new Map<string, string>();
  let points = 0;
  for (const [index, file] of pointsFiles.entries()) {
    const first = readNames.get(file.name);
    if (first !== undefined) {
      report.notes.push(`Not read: ${file.path}: the same file as ${first} (read already).`);
    } else {
      const result = await importPointsFile(pool, report, file, { key: options.key, timeZone: options.timeZone, maxPointBytes: options.maxPointBytes });
      points += result.read;
      read.push({ file, points: result.read });
      if (result.error === undefined) {
        readNames.set(file.name, file.path);
      } else {
        failedFiles += 1;
        report.notes.push(`File not imported: ${file.path} ${result.error}${result.read > 0 ? ` (the ${result.read === 1 ? 'point' : `${result.read} points`} read before ${result.read === 1 ? 'was' : 'were'} imported)` : ''}.`);
        options.log.warn({ file: file.path }, `backup file not imported: ${result.error}`);
      }
    }
    options.onProgress?.({ files: index + 1, of: pointsFiles.length, points });
  }

  const tables = await readDumpFiles(dumpFiles, options.key, report, options.maxPointBytes);
  failedFiles += tables.failedFiles;
  const { groupsCreated, sources } = await withTransaction(pool, async (client) => ({
    groupsCreated: await addMissingGroups(client, tables.groups),
    sources: await addSourceDetails(client, tables.sources),
  }));
  if (tables.groups.length > 0 || tables.sources.length > 0) {
    report.notes.push(`Groups: ${tables.groups.length} in the backup, ${groupsCreated} new here. Sources: ${tables.sources.length} in the backup, `
      + `${sources.created} new here, ${sources.updated} given a name, group or alert suppression they lacked (nothing set here is overwritten).`);
  }
  for (const { source, name } of sources.nameTaken) report.notes.push(`Source ${source}: its name "${name}" on the original is another source's here; not set.`);
  if (tables.users.length > 0) {
    report.notes.push(`Staff accounts not imported: ${tables.users.map((u) => u.username + (u.staff ? '' : ' (not staff)')).join(', ')}. `
      + 'Their passwords are Django PBKDF2 hashes, which this server\'s login (argon2id) does not check: create the accounts here with dcs users create NAME [--admin].');
  }
  for (const [model, n] of tables.notImported) report.notes.push(`Not imported: ${n} ${model} rows from the dumpdata files (this server has no table for them, or issues its own).`);

  report.notes.push(TYPES_NOT_IN_BACKUPS_NOTE);
  const missing = missingWebmunkTypes(pointsFiles);
  if (missing) report.notes.push(missing);
  if (pointsFiles.length > 0) report.notes.push(recordedNote(options.timeZone));
  report.notes.push(...incompleteSetNotes(read));

  const assignments = new Map(tables.sources.filter((s) => s.configuration !== null).map((s) => [s.identifier, s.configuration!]));
  return { report, failedFiles, configurations: tables.configurations, assignments };
}
