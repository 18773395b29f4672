/**
 * README.txt, the data dictionary inside every archive: what was asked for, which server wrote
 * it, how many points of each type and source it holds, and every file's columns. An analyst
 * opening an archive a year later needs nothing else to read it.
 */
import type { ServedSummary } from '../app-config/served.repository.ts';
import type { ArchivedPartition } from '../archive/archive.repository.ts';
import type { AnyExporter, Column } from './exporter.ts';
import type { ExportRequest } from './export-request.ts';
import type { Renamed } from './file-names.ts';

/** Per data type: its exporter, its name in file names, and its points per source. */
export type ExportCounts = Map<string, { exporter: AnyExporter; name: string; perSource: Map<string, number> }>;

interface ReadmeInput {
  request: ExportRequest;
  /** the REX configurations last served to the requested sources (their study arms) */
  configurations?: readonly ServedSummary[];
  counts: ExportCounts;
  /** identifiers named otherwise in file names (not safe as file names, or colliding) */
  renamed: readonly Renamed[];
  timeZone: string;
  serverVersion: string;
  /** the exclusion rules' section (excluded-points.ts) */
  exclusions?: readonly string[];
  /** the archived (detached, not restored) months the request's dates reach into */
  archived?: readonly ArchivedPartition[];
}

const FORMATS = {
  tsv: 'TSV: tab-separated, UTF-8, CRLF line ends, a header row, cells quoted with " only when they hold a tab, quote or line break',
  parquet: 'Parquet: one file per type, typed columns (times as UTC timestamps in microseconds)',
  raw: 'raw: the points exactly as stored, as JSON arrays, one file per source, type and day of Date Created',
};

function fileOf(exporter: AnyExporter, name: string, format: ExportRequest['format']): string {
  if (format === 'parquet') return `${name}.parquet`;
  if (format === 'raw') return `<source>__${name}__<YYYY-MM-DD>.json`;
  return exporter.layout === 'per-source' ? `${name}/<source>.txt` : `${name}.txt`;
}

/** An identifier as written in README.txt: quoted, escaped, so it cannot break a line. */
const quoted = (id: string) => JSON.stringify(id);

const monthOf = (at: Date) => at.toISOString().slice(0, 7);

/** Why points may be missing: the months archived out of the database (docs/partitions.md). */
function archivedSection(archived: readonly ArchivedPartition[]): string[] {
  const lines = ['', 'Archived months', '---------------', ''];
  lines.push('The points created in these months were archived (Parquet files with a manifest) and are not in the database, so');
  lines.push('this export does not hold them. `dcs archive restore YYYY-MM` brings a month back; then export again.', '');
  for (const a of archived) {
    const months = `${a.rangeFrom ? monthOf(a.rangeFrom) : 'before'} to ${monthOf(new Date(a.rangeTo.getTime() - 1))}`;
    lines.push(`  created ${months}\t${a.rows ?? 'not yet counted:'} points\t${a.state === 'archived' ? `at ${a.location}/${a.manifestKey}` : 'being archived now'}`);
  }
  return lines;
}

export function readmeText({ request, configurations = [], counts, renamed, timeZone, serverVersion, exclusions = [], archived = [] }: ReadmeInput): string {
  const lines: string[] = [];
  const total = [...counts.values()].reduce((sum, { perSource }) => sum + [...perSource.values()].reduce((a, b) => a + b, 0), 0);
  lines.push('Webmunk data export', '===================', '');
  lines.push(`Written by webmunk-dcs ${serverVersion}. When is left out on purpose (the archive file's date and the export job say it; the`);
  lines.push('files inside are dated the end of the data window): the same export run again on the same data is the same bytes, checksum and all.');
  lines.push(`Format: ${FORMATS[request.format]}.`);
  if (request.format === 'tsv') {
    // The cells are byte for byte the original's, so nothing is escaped for spreadsheets.
    lines.push('Open the .txt files as text, not by double-clicking them into a spreadsheet: cells may begin with = + - @ (text the');
    lines.push('participants\' browsers sent), which a spreadsheet runs as a formula. Import them with every column as text (Excel:');
    lines.push('Data > From Text/CSV, then each column\'s type Text; LibreOffice: Text Import, column type Text), or read them');
    lines.push('with a script (pandas: read_csv(path, sep="\\t", dtype=str, keep_default_na=False); R: read.delim(path, colClasses="character")).');
  }
  lines.push(`Dates: ${request.from ?? 'the beginning'} to ${request.to ?? 'now'} (whole days in ${timeZone}, both included), by Date ${request.dateType === 'recorded' ? 'Recorded (server receipt)' : 'Created (on the participant\'s browser)'}.`);
  lines.push(`Sources requested: ${request.sources.length}. Points exported: ${total}.`, '');
  lines.push('Points per type and source', '--------------------------', '');
  for (const [type, { exporter, perSource }] of counts) {
    const sum = [...perSource.values()].reduce((a, b) => a + b, 0);
    lines.push(`${type} (${exporter.label}): ${sum} ${exporter.unit ?? 'points'}`);
    for (const [source, points] of [...perSource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`  ${source}\t${points}`);
  }
  if (archived.length > 0) lines.push(...archivedSection(archived));
  if (configurations.length > 0) {
    lines.push('', 'REX configurations served', '-------------------------', '');
    lines.push('The configuration at /data/app-config.json each requested source was served last (its study arm), by name');
    lines.push('and version, with the number of sources; the source list (sources.tsv) names each source\'s.', '');
    for (const { name, version, sources } of configurations) lines.push(`  ${quoted(name)}\tversion ${version}\t${sources} source${sources === 1 ? '' : 's'}`);
  }
  if (renamed.length > 0) {
    lines.push('', 'Names in file names', '-------------------', '');
    lines.push('These data types and sources are named otherwise in file names: their identifiers are not safe');
    lines.push('as file names, or differ from another\'s only in case (the files would overwrite each other when');
    lines.push('unzipped on macOS or Windows). Inside the files, the real identifiers are written.', '');
    for (const { kind, id, name } of renamed) lines.push(`  ${kind} ${quoted(id)} -> ${name}`);
  }
  if (exclusions.length > 0) lines.push('', ...exclusions);
  lines.push('', 'Files and columns', '-----------------', '');
  for (const { exporter, name } of counts.values()) {
    lines.push(`${fileOf(exporter, name, request.format)}: ${exporter.label}; ${exporter.rowsAre}.`);
    if (request.format !== 'raw') {
      for (const column of exporter.columns as readonly Column<unknown>[]) lines.push(`  ${column.header}: ${column.about}`);
    }
    lines.push('');
  }
  lines.push('Times are ISO-8601 with the offset of the zone in Time Zone (the participant\'s browser zone where it sent one, else the server zone); "UTC" columns give the same instant in UTC.');
  lines.push('Fields ending in * were encrypted by some extension versions (2022-04 to 2023-02); they are exported decrypted, or as their plaintext ! copy where they cannot be decrypted.');
  return lines.join('\r\n') + '\r\n';
}
