/**
 * Turns what someone asked for (Export page form, `dcs export` options) into a report job, with
 * the same checks and the same messages for both: days must be real, sources must exist, a
 * selection must hold something.
 */
import type { Pool } from '../db/database.ts';
import { resolveSources, typesPresent, unknownSources } from './export-catalog.repository.ts';
import { insertReportJob, type ReportJob, type SourceSelection } from './report-jobs.repository.ts';
import type { ExportFormat } from './export-request.ts';

export interface ExportAsk {
  requestedBy: string;
  /** data types, or 'all' for every type with points */
  types: readonly string[] | 'all';
  selection: SourceSelection;
  from?: string;
  to?: string;
  dateType: string;
  format: string;
  destinations: readonly string[];
}

export class ExportRequestError extends Error {}

const FORMATS = ['tsv', 'raw', 'parquet'];

export function isDay(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
}

/** Checks the ask; throws ExportRequestError with a message for people. */
export async function requestExport(pool: Pool, ask: ExportAsk, state: 'queued' | 'running' = 'queued'): Promise<ReportJob> {
  for (const [name, day] of [['from', ask.from], ['to', ask.to]] as const) {
    if (day && !isDay(day)) throw new ExportRequestError(`The ${name} date must be a day YYYY-MM-DD (got "${day}").`);
  }
  if (ask.from && ask.to && ask.from > ask.to) throw new ExportRequestError('The from date is after the to date.');
  if (ask.dateType !== 'created' && ask.dateType !== 'recorded') throw new ExportRequestError(`The date type must be created or recorded (got "${ask.dateType}").`);
  if (!FORMATS.includes(ask.format)) throw new ExportRequestError(`The format must be tsv, raw or parquet (got "${ask.format}").`);
  const types = ask.types === 'all' ? await typesPresent(pool) : [...new Set(ask.types)];
  if (types.length === 0) throw new ExportRequestError(ask.types === 'all' ? 'There are no data points to export yet.' : 'Choose one or more data types to export.');
  if ('sources' in ask.selection) {
    if (ask.selection.sources.length === 0) throw new ExportRequestError('Choose one or more sources to export.');
    const unknown = await unknownSources(pool, ask.selection.sources);
    if (unknown.length > 0) throw new ExportRequestError(`No data from source(s) ${unknown.join(', ')}.`);
  }
  if ('groups' in ask.selection && ask.selection.groups.length === 0) throw new ExportRequestError('Choose one or more groups to export.');
  const sources = await resolveSources(pool, ask.selection);
  if (sources.length === 0) throw new ExportRequestError('The selection holds no source.');
  const job = await insertReportJob(pool, {
    requestedBy: ask.requestedBy, selection: ask.selection, sources, types, from: ask.from, to: ask.to,
    dateType: ask.dateType, format: ask.format as ExportFormat, namePrefix: 'export', destinations: ask.destinations,
  }, state);
  return job!;
}

