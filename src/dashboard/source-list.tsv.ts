/**
 * The source list as TSV (csv-parse / csv-stringify): `Source ID`, `Source Name`, `Group`, the
 * first three columns of the original's data-sources.txt, whose files (with their Configuration
 * columns) are read too; written with `Configuration` too, the REX configuration each source was
 * served last (its study arm), which an upload leaves alone (assign configurations on the source
 * page or with dcs config assign). Headers are matched by name, case-insensitively; a file without a Group
 * column leaves groups alone (the original crashed on one). Identifiers are chosen by whoever
 * uploads, so cells that a spreadsheet would run as formulas are written neutralised.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { SourceListEntry } from './sources.repository.ts';

export const SOURCE_LIST_HEADER = ['Source ID', 'Source Name', 'Group'];

// A cell a spreadsheet would run as a formula: the characters OWASP lists (= + - @ tab CR) and
// their full-width forms (Apple Numbers folds them), as csv-stringify's escape_formulas does.
// Written with a leading apostrophe (shown as text, and dropped when the sheet is saved again);
// a cell that already starts with apostrophes before one of them gets one more, so reading back
// (one apostrophe removed) gives every identifier exactly as it was.
const FORMULA = /^'*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const NEUTRALISED = /^'+[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** A cell as written: never a formula in a spreadsheet. */
export function neutraliseFormula(value: string): string {
  return FORMULA.test(value) ? `'${value}` : value;
}

/** A cell as read: the value `neutraliseFormula` was given (a cell without its apostrophe is taken as is). */
export function restoreFormula(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}

/** `configurations`: per source, the name of the configuration it was served last. */
export function formatSourceList(entries: readonly SourceListEntry[], configurations: ReadonlyMap<string, string> = new Map()): string {
  const rows = entries.map((e) => [e.source, e.name ?? '', e.group ?? '', configurations.get(e.source) ?? ''].map(neutraliseFormula));
  return stringify([[...SOURCE_LIST_HEADER, 'Configuration'], ...rows], { delimiter: '\t', record_delimiter: 'windows' });
}

export interface ParsedSourceList {
  entries: Array<{ source: string; name: string | null; group: string | null }>;
  /** false when the file has no Group column: groups are left as they are */
  hasGroup: boolean;
  hasName: boolean;
}

export class SourceListError extends Error {}

const ALIASES: Record<'source' | 'name' | 'group', string[]> = {
  source: ['source id', 'source', 'identifier', 'source identifier'],
  name: ['source name', 'name', 'friendly name'],
  group: ['group', 'group name'],
};

export function parseSourceList(text: string): ParsedSourceList {
  let records: string[][];
  try {
    records = parse(text, { delimiter: '\t', bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new SourceListError(`not a tab-separated file (${(error as Error).message})`);
  }
  if (records.length === 0) throw new SourceListError('the file is empty');
  const header = records[0].map((h) => h.toLowerCase());
  const column = (key: keyof typeof ALIASES) => header.findIndex((h) => ALIASES[key].includes(h));
  const [sourceAt, nameAt, groupAt] = [column('source'), column('name'), column('group')];
  if (sourceAt < 0) throw new SourceListError(`the first line must name the columns, with "${SOURCE_LIST_HEADER.join('", "')}"`);
  const seen = new Map<string, number>();
  const entries: ParsedSourceList['entries'] = [];
  records.slice(1).forEach((cells, index) => {
    const record = cells.map(restoreFormula);
    const source = record[sourceAt] ?? '';
    if (!source) return;
    if (seen.has(source)) throw new SourceListError(`source ${source} is listed twice (lines ${seen.get(source)} and ${index + 2})`);
    seen.set(source, index + 2);
    entries.push({ source, name: nameAt >= 0 ? record[nameAt] || null : null, group: groupAt >= 0 ? record[groupAt] || null : null });
  });
  const names = new Map<string, string>();
  for (const e of entries) {
    if (!e.name) continue;
    const other = names.get(e.name);
    if (other) throw new SourceListError(`the name ${e.name} is given to both ${other} and ${e.source}; names must be unique`);
    names.set(e.name, e.source);
  }
  return { entries, hasGroup: groupAt >= 0, hasName: nameAt >= 0 };
}
