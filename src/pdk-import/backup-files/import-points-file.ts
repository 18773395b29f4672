/**
 * One file of stored points (PDK's `.pdk-bundle.bz2`, Webmunk's `.webmunk-pd-bundle.gz`) into our
 * bundles. The original wrote each point's stored properties and nothing else (`fetch_properties()`:
 * the point as received, with its `encrypted_transmission`), so `source`, `generator-id`, `created`
 * and the properties come back exactly, and `recorded` cannot: see recordedOf.
 */
import type { Pool } from '../../db/database.ts';
import { createImportBundleWriter } from '../import-bundles.ts';
import type { ImportReport } from '../import-report.ts';
import type { PointsFile } from './file-names.ts';
import { BackupFileError, readBackupElements } from './read-backup-file.ts';

/**
 * The `recorded` every point of the file gets: the first day of its window at 00:00 in `timeZone`
 * (the original's TIME_ZONE, which named the window's days). The original backed up the points it
 * had recorded in that window and wrote no time with them; for its default daily backups the day
 * is exact, the time of day is not. One value per file also keeps the file's points in few bundles.
 */
export function recordedOf(file: PointsFile, timeZone: string): string {
  return `${file.from} 00:00:00 ${timeZone}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** What processing would refuse in a point (processing/point-fields.ts), said before it is stored. */
function identify(text: string): { source: string; generatorId: string } | string {
  let point: unknown;
  try {
    point = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (!isObject(point)) return 'not a JSON object';
  const meta = point['passive-data-metadata'];
  if (!isObject(meta)) return 'no passive-data-metadata object';
  if (!('source' in meta)) return 'no passive-data-metadata.source';
  if (!('generator' in meta)) return 'no passive-data-metadata.generator';
  const source = typeof meta.source === 'string' || typeof meta.source === 'number' || typeof meta.source === 'boolean' ? String(meta.source) : '';
  const generatorId = meta['generator-id'];
  return { source: source || 'missing-source', generatorId: (typeof generatorId === 'string' && generatorId) || 'unknown-generator' };
}

export interface PointsFileResult {
  /** Points read from the file (imported or failed). */
  read: number;
  /** Why the file could not be read to its end; the points before were imported. */
  error?: string;
}

/**
 * Reads the file's points into bundles whose receipts derive from the file's name (host included:
 * two servers' files of the same window are different files) and each point's place in the
 * original's list, so reading the same file again, from any folder, stores nothing new.
 */
export async function importPointsFile(
  pool: Pool,
  report: ImportReport,
  file: PointsFile,
  options: { key: Uint8Array | undefined; timeZone: string; maxPointBytes: number },
): Promise<PointsFileResult> {
  const writer = createImportBundleWriter(pool, `backup-file:${file.name}`);
  const recorded = recordedOf(file, options.timeZone);
  let read = 0;
  let error: string | undefined;
  try {
    for await (const text of readBackupElements(file, options.key, options.maxPointBytes)) {
      const place = file.offset + read;
      read += 1;
      const identity = identify(text);
      if (typeof identity === 'string') {
        report.fail(`${file.name} point ${place}`, identity);
        continue;
      }
      report.countOriginal(identity.source, identity.generatorId);
      await writer.add({ key: String(place), recorded, properties: text });
    }
  } catch (caught) {
    // A file that breaks off (damaged, or a point over MAX_POINT_BYTES): what was read is kept.
    if (!(caught instanceof BackupFileError)) throw caught;
    error = caught.message;
  }
  await writer.finish();
  return { read, error };
}
