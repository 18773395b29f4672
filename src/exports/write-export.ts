/**
 * Writes one export archive: for each requested type, its points streamed from PostgreSQL
 * through its exporter into TSV (or Parquet, or raw JSON) entries, then README.txt describing
 * every file. Used by report jobs (dashboard, nightly) and `dcs export` alike.
 */
import fs from 'node:fs/promises';
import { archivedWithin } from '../archive/archive.repository.ts';
import { summariseServed } from '../app-config/served.repository.ts';
import type { Pool } from '../db/database.ts';
import { ArchiveWriter, type EntryWriter } from './archive.ts';
import { archiveTime } from './archive-time.ts';
import { ASIN_DETAILS_TYPE, asinDetailsExporter, writeAsinDetails } from './asin-details.ts';
import { exporterFor, WEBMUNK_EXPORTERS } from './columns/index.ts';
import type { ExportRequest } from './export-request.ts';
import { ExportPoint, type StoredPoint } from './export-point.ts';
import { keysRead, textKeysRead, writerValue, type AnyExporter, type Column } from './exporter.ts';
import { ArchiveNames, slugify } from './file-names.ts';
import { ParquetFileWriter } from './parquet-writer.ts';
import { streamPoints, type PointWindow } from './point-query.ts';
import { readmeText, type ExportCounts } from './readme.ts';
import { exclusionsSection, writeExcludedPoints } from './excluded-points.ts';
import { resolvedRules } from '../data-quality/exclusion-rules.repository.ts';
import { tsvLine, writeTsvRow } from './tsv.ts';
import { dayInZone } from './zoned-time.ts';

export interface ExportProgress {
  points: number;
  typesDone: number;
  typesTotal: number;
  /** sources finished within the type being exported */
  sourcesDone: number;
  sourcesTotal: number;
}

export interface ExportDeps {
  pool: Pool;
  timeZone: string;
  serverSecretKey: Uint8Array | undefined;
  /** data type → label, for README.txt and the generic exporter */
  labels: ReadonlyMap<string, string>;
  serverVersion: string;
  /** PUBLIC_URL, for the product data URLs of webmunk-asin-details */
  publicUrl: string;
}

type Progress = (progress: ExportProgress) => void;

/** The original's data types: their files keep their names whatever else an archive holds. */
const KNOWN_TYPES: ReadonlySet<string> = new Set([...WEBMUNK_EXPORTERS.map((exporter) => exporter.id), ASIN_DETAILS_TYPE]);

export async function writeExport(deps: ExportDeps, request: ExportRequest, filePath: string, onProgress: Progress = () => undefined): Promise<ExportCounts> {
  const archive = new ArchiveWriter(filePath, archiveTime(request, deps.timeZone));
  const counts: ExportCounts = new Map();
  const state: ExportProgress = { points: 0, typesDone: 0, typesTotal: request.types.length, sourcesDone: 0, sourcesTotal: request.sources.length };
  const parquetFiles: string[] = [];
  const names = new ArchiveNames(request.types, KNOWN_TYPES);
  // the rules in force when the export starts apply to all of it
  const exclusions = await resolvedRules(deps.pool);
  const generators: string[] = [];
  try {
    for (const [index, type] of request.types.entries()) {
      state.sourcesDone = 0;
      // Parquet is written beside the archive first (it ends with a footer): one file per type
      const parquetPath = `${filePath}.${index}.parquet.tmp`;
      if (type === ASIN_DETAILS_TYPE) {
        // products, not points: every product, whatever the sources and days
        parquetFiles.push(parquetPath);
        const products = await writeAsinDetails(archive, { pool: deps.pool, publicUrl: deps.publicUrl, timeZone: deps.timeZone }, request.format, parquetPath);
        counts.set(type, { exporter: asinDetailsExporter(deps.timeZone), name: type, perSource: new Map([['(products)', products]]) });
        state.typesDone += 1;
        onProgress({ ...state });
        continue;
      }
      const exporter = exporterFor(type, deps.labels.get(type) ?? type, deps.timeZone);
      const perSource = new Map<string, number>();
      counts.set(type, { exporter, name: names.type(type), perSource });
      const window: PointWindow = {
        generators: exporter.generators, sources: request.sources, dateType: request.dateType,
        from: request.from, to: request.to, timeZone: deps.timeZone,
        keys: request.format === 'raw' ? undefined : keysRead(exporter), textKeys: request.format === 'tsv' ? textKeysRead(exporter) : [],
        order: request.format === 'raw' || exporter.order === 'created-ascending' ? 'created-ascending' : 'newest-first',
        exclusions,
      };
      generators.push(...exporter.generators);
      const points = sourceTracking(streamPoints(deps.pool, window), perSource, state, onProgress);
      if (request.format === 'tsv') await writeTsv(archive, names, exporter, points, deps);
      else if (request.format === 'parquet') {
        parquetFiles.push(parquetPath);
        await writeParquet(archive, parquetPath, `${names.type(type)}.parquet`, exporter, points, deps);
      } else await writeRaw(archive, names, type, points, deps.timeZone);
      state.typesDone += 1;
      state.sourcesDone = request.sources.length;
      onProgress({ ...state });
    }
    const removed = await writeExcludedPoints(deps.pool, archive, {
      generators, sources: request.sources, dateType: request.dateType, from: request.from, to: request.to, timeZone: deps.timeZone,
    }, exclusions);
    const configurations = await summariseServed(deps.pool, request.sources);
    archive.addText('README.txt', readmeText({
      request, configurations, counts, renamed: names.renamed, timeZone: deps.timeZone, serverVersion: deps.serverVersion,
      exclusions: exclusionsSection(exclusions, removed), archived: await archivedMonthsOf(deps.pool, request),
    }));
    await archive.close();
  } catch (error) {
    await archive.abort();
    throw error;
  } finally {
    await Promise.all(parquetFiles.map((file) => fs.rm(file, { force: true })));
  }
  return counts;
}

const DAY_MS = 86_400_000;

/**
 * The archived months the request's days may reach into. Days are in TIME_ZONE, months in UTC:
 * a day either side covers every zone. Points recorded on a day may have been created any time
 * before it, so a window by Date Recorded reaches every archived month before its end.
 */
function archivedMonthsOf(pool: Pool, request: ExportRequest) {
  const from = request.from && request.dateType !== 'recorded' ? new Date(Date.parse(request.from) - DAY_MS) : null;
  const to = request.to ? new Date(Date.parse(request.to) + 2 * DAY_MS) : null;
  return archivedWithin(pool, 'data_points', from, to);
}

/** Counts points per source as they pass, and reports progress when a source is finished. */
async function* sourceTracking(batches: AsyncIterable<Iterable<StoredPoint>>, perSource: Map<string, number>, state: ExportProgress, onProgress: Progress) {
  const tracker = { current: undefined as string | undefined, count: 0 };
  function* counted(points: Iterable<StoredPoint>) {
    for (const point of points) {
      if (point.source !== tracker.current) {
        if (tracker.current !== undefined) {
          perSource.set(tracker.current, (perSource.get(tracker.current) ?? 0) + tracker.count);
          state.sourcesDone += 1;
        }
        tracker.current = point.source;
        tracker.count = 0;
      }
      tracker.count += 1;
      state.points += 1;
      if (state.points % 10_000 === 0) onProgress({ ...state });
      yield point;
    }
  }
  for await (const points of batches) yield counted(points);
  if (tracker.current !== undefined) perSource.set(tracker.current, (perSource.get(tracker.current) ?? 0) + tracker.count);
}

async function writeTsv(archive: ArchiveWriter, names: ArchiveNames, exporter: AnyExporter, batches: AsyncIterable<Iterable<StoredPoint>>, deps: ExportDeps): Promise<void> {
  const columns: readonly Column<unknown>[] = exporter.columns;
  const header = tsvLine(columns.map((column) => column.header));
  let entry: EntryWriter | undefined;
  let entrySource: string | undefined;
  if (exporter.layout === 'single') {
    entry = archive.entry(`${names.type(exporter.id)}.txt`);
    entry.write(header);
  }
  for await (const points of batches) {
    for (const stored of points) {
      if (exporter.layout === 'per-source' && stored.source !== entrySource) {
        await entry?.close();
        entry = archive.entry(names.sourceFile(slugify(exporter.id), stored.source));
        entrySource = stored.source;
        entry.write(header);
      }
      const point = new ExportPoint(stored, deps.timeZone, deps.serverSecretKey);
      for (const row of exporter.rows(point)) writeTsvRow(entry!, columns.length, (i) => writerValue(columns[i].value(row), 'tsv'));
    }
    // back-pressure: wait while the compressor is behind
    await entry?.drained();
  }
  await entry?.close();
}

async function writeParquet(archive: ArchiveWriter, tempPath: string, name: string, exporter: AnyExporter, batches: AsyncIterable<Iterable<StoredPoint>>, deps: ExportDeps): Promise<void> {
  const columns: readonly Column<unknown>[] = exporter.columns;
  const writer = new ParquetFileWriter(tempPath, columns.map((column) => ({ name: column.header, type: column.type })), { createdBy: `webmunk-dcs ${deps.serverVersion}` });
  for await (const points of batches) {
    for (const stored of points) {
      const point = new ExportPoint(stored, deps.timeZone, deps.serverSecretKey);
      for (const row of exporter.rows(point)) await writer.addRow(columns.map((column) => writerValue(column.value(row), 'parquet')));
    }
  }
  await writer.close();
  archive.addFile(tempPath, name);
}

/** Raw format: the points as stored, one JSON array per source, type and day of `created`. */
async function writeRaw(archive: ArchiveWriter, names: ArchiveNames, type: string, batches: AsyncIterable<Iterable<StoredPoint>>, timeZone: string): Promise<void> {
  let entry: EntryWriter | undefined;
  let key: string | undefined;
  let first = true;
  for await (const points of batches) {
    for (const point of points) {
      const day = dayInZone(point.createdMicros, timeZone);
      // a new entry for each source and day (the day has a fixed length: the key is unambiguous)
      const current = `${day}${point.source}`;
      if (current !== key) {
        if (entry) {
          entry.write('\n]\n');
          await entry.close();
        }
        entry = archive.entry(names.rawEntry(point.source, type, day));
        key = current;
        first = true;
        entry.write('[');
      }
      entry!.write(`${first ? '\n  ' : ',\n  '}${JSON.stringify(point.properties, null, 2).replace(/\n/g, '\n  ')}`);
      first = false;
    }
    await entry?.drained();
  }
  if (entry) {
    entry.write('\n]\n');
    await entry.close();
  }
}
