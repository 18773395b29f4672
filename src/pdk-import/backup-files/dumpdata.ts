/**
 * The original's `.json-dumpdata` files: Django's `dumpdata` of whole models (PDK's hook dumps
 * `auth`, AppConfiguration, DataServerApiToken, DataServerAccessRequest, DataServer,
 * DataSourceGroup, DataSource, DeviceIssue, DeviceModel, Device and ReportDestination; Webmunk's
 * hook none), a JSON array of `{"model": "app.model", "pk": …, "fields": {…}}`. Every backup run
 * dumps them whole again, so only the newest readable copy of each counts.
 *
 * What this server has tables for is read here: groups, sources (names, groups, alert
 * suppression, a directly assigned configuration) and configurations. Staff accounts are counted
 * but not imported (their passwords are Django PBKDF2 hashes; our login checks argon2id), and so is
 * every other model (this server has nothing of theirs, or issues its own: API tokens).
 */
import type { ImportReport } from '../import-report.ts';
import type { DumpFile } from './file-names.ts';
import { BackupFileError, readBackupElements } from './read-backup-file.ts';

export interface OriginalGroup {
  name: string;
  suppressAlerts: boolean;
}

export interface OriginalSource {
  identifier: string;
  /** null when the original's name is the identifier (what it gave every new source). */
  name: string | null;
  group: string | null;
  suppressAlerts: boolean;
  /** The name of the configuration assigned to it directly, if any. */
  configuration: string | null;
}

/** An AppConfiguration, as `dcs config import` takes it. */
export interface OriginalConfiguration {
  name: string;
  idPattern: string;
  contextPattern: string;
  order: number;
  /** Served by the original: enabled and valid. */
  enabled: boolean;
  configuration: unknown;
}

export interface DumpedTables {
  groups: OriginalGroup[];
  sources: OriginalSource[];
  configurations: OriginalConfiguration[];
  /** auth.user rows: user names, with whether each could use the original's dashboard (is_staff). */
  users: { username: string; staff: boolean }[];
  /** Rows of models this import does not take, per model. */
  notImported: Map<string, number>;
  /** Copies that could not be read. */
  failedFiles: number;
}

interface DumpRow {
  model: string;
  pk: unknown;
  fields: Record<string, unknown>;
}

const text = (value: unknown) => (typeof value === 'string' ? value : value === null || value === undefined ? null : String(value));

/** A JSONField dumps as JSON; a TextField holding JSON (pdk-server.md §1.1) as a string of it. */
function jsonValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The newest readable copy of one model's dumps (of one server): its rows. A copy that cannot be read is noted and the next newest tried. */
async function readNewestCopy(copies: DumpFile[], key: Uint8Array | undefined, report: ImportReport, maxRowBytes: number): Promise<{ rows: DumpRow[]; failed: number }> {
  copies.sort((a, b) => (a.to === b.to ? (a.path < b.path ? 1 : -1) : a.to < b.to ? 1 : -1));
  let failed = 0;
  for (const [index, file] of copies.entries()) {
    try {
      const rows: DumpRow[] = [];
      for await (const element of readBackupElements(file, key, maxRowBytes)) {
        const row = JSON.parse(element) as DumpRow;
        if (typeof row?.model !== 'string' || !row.fields || typeof row.fields !== 'object') continue;
        delete row.fields.performance_metadata; // a source's cached statistics, KBs each: rebuilt here from the points
        rows.push(row);
      }
      const older = copies.length - index - 1;
      if (older > 0) report.notes.push(`${file.model}: read the newest copy, ${file.name}; ${older} older ${older === 1 ? 'copy' : 'copies'} of it not read (every backup dumps it whole)`);
      return { rows, failed };
    } catch (error) {
      if (!(error instanceof BackupFileError)) throw error;
      failed += 1;
      report.notes.push(`File not imported: ${file.path} ${error.message}${index + 1 < copies.length ? '; the next newest copy is read instead' : ''}`);
    }
  }
  return { rows: [], failed };
}

/**
 * The newest readable copy of each dumped model, read into DumpedTables. Each server's (host's)
 * dumps are read on their own: their primary keys, which link sources to groups, are its own.
 */
export async function readDumpFiles(files: DumpFile[], key: Uint8Array | undefined, report: ImportReport, maxRowBytes: number): Promise<DumpedTables> {
  const byHost = new Map<string, Map<string, DumpFile[]>>();
  for (const file of files) {
    const models = byHost.get(file.host) ?? new Map<string, DumpFile[]>();
    byHost.set(file.host, models);
    models.set(`${file.writer}:${file.model}`, [...(models.get(`${file.writer}:${file.model}`) ?? []), file]);
  }
  const tables: DumpedTables = { groups: [], sources: [], configurations: [], users: [], notImported: new Map(), failedFiles: 0 };
  for (const models of byHost.values()) {
    const rows: DumpRow[] = [];
    for (const copies of models.values()) {
      const newest = await readNewestCopy(copies, key, report, maxRowBytes);
      rows.push(...newest.rows);
      tables.failedFiles += newest.failed;
    }
    const host = tablesOf(rows);
    tables.groups.push(...host.groups);
    // Two servers' dumps: the first server's source (and name) wins.
    const identifiers = new Set(tables.sources.map((t) => t.identifier));
    const names = new Set(tables.sources.map((t) => t.name));
    for (const source of host.sources.filter((t) => !identifiers.has(t.identifier))) {
      tables.sources.push(names.has(source.name) ? { ...source, name: null } : source);
    }
    tables.configurations.push(...host.configurations);
    tables.users.push(...host.users);
    for (const [model, n] of host.notImported) tables.notImported.set(model, (tables.notImported.get(model) ?? 0) + n);
  }
  return tables;
}

function tablesOf(rows: DumpRow[]): Omit<DumpedTables, 'failedFiles'> {
  const tables: Omit<DumpedTables, 'failedFiles'> = { groups: [], sources: [], configurations: [], users: [], notImported: new Map() };
  const groupNames = new Map<string, string>();
  const configurationNames = new Map<string, string>();
  for (const row of rows) {
    const f = row.fields;
    if (row.model === 'passive_data_kit.datasourcegroup' && text(f.name)) {
      groupNames.set(String(row.pk), text(f.name)!);
      tables.groups.push({ name: text(f.name)!, suppressAlerts: f.suppress_alerts === true });
    } else if (row.model === 'passive_data_kit.appconfiguration' && text(f.name)) {
      configurationNames.set(String(row.pk), text(f.name)!);
      tables.configurations.push({
        name: text(f.name)!,
        idPattern: text(f.id_pattern) ?? '',
        contextPattern: text(f.context_pattern) ?? '.*',
        order: typeof f.evaluate_order === 'number' ? f.evaluate_order : 1,
        enabled: f.is_enabled !== false && f.is_valid === true,
        configuration: jsonValue(f.configuration_json),
      });
    } else if (row.model === 'auth.user') {
      tables.users.push({ username: text(f.username) ?? String(row.pk), staff: f.is_staff === true && f.is_active !== false });
    } else if (row.model !== 'passive_data_kit.datasource') {
      tables.notImported.set(row.model, (tables.notImported.get(row.model) ?? 0) + 1);
    }
  }
  // Sources after groups and configurations, whichever file came first. The original's
  // identifier is not unique: the first row (lowest pk) of an identifier wins, as its lookups did.
  const seen = new Set<string>();
  const sources = rows.filter((r) => r.model === 'passive_data_kit.datasource' && text(r.fields.identifier));
  sources.sort((a, b) => Number(a.pk) - Number(b.pk));
  for (const { fields: f } of sources) {
    const identifier = text(f.identifier)!;
    if (seen.has(identifier)) continue;
    seen.add(identifier);
    const name = text(f.name);
    tables.sources.push({
      identifier,
      name: name && name !== identifier ? name : null,
      group: f.group === null || f.group === undefined ? null : (groupNames.get(String(f.group)) ?? null),
      suppressAlerts: f.suppress_alerts === true,
      configuration: f.configuration === null || f.configuration === undefined ? null : (configurationNames.get(String(f.configuration)) ?? null),
    });
  }
  return tables;
}
