/**
 * webmunk-extension-log-elements, "Webmunk: Static Page Elements Log" (webmunk-server.md §5.3.6):
 * one file per source, one row per pattern match. The original filled a match's missing HTML
 * with the point-level `element-content!`; ours reads the match's own fields only.
 */
import { removeLineBreaks, sensitiveKeys, type ExportPoint } from '../export-point.ts';
import type { Exporter, ExportRow } from '../exporter.ts';
import { column, PAGE_ID, POINT_COLUMNS, sensitive, TAB_ID } from './common.ts';

interface Match {
  pattern: string;
  match: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * False for the matches on which the original's row raised a TypeError or AttributeError, which
 * it caught and skipped: not a dict, an `offset` or `size` that is there but not a dict (null too:
 * Python's `.get('size', {})` returns it), or HTML that is there but not a string (`.splitlines()`).
 */
function wellFormed(match: unknown): match is Record<string, unknown> {
  if (!isObject(match)) return false;
  if (['offset', 'size'].some((key) => key in match && !isObject(match[key]))) return false;
  const html = 'element-content*' in match ? match['element-content*'] : match['element-content!'];
  return html === undefined || typeof html === 'string';
}

function* patternMatches(point: ExportPoint): Iterable<ExportRow<Match>> {
  const matches = point.get('pattern-matches');
  if (!isObject(matches)) return;
  for (const [pattern, list] of Object.entries(matches)) {
    if (!Array.isArray(list)) continue;
    for (const match of list) if (wellFormed(match)) yield { point, item: { pattern, match } };
  }
}

const ELEMENT_CONTENT = sensitiveKeys('element-content');

const geometry = (header: string, group: string, key: string) =>
  column<Match>(header, 'double', `match \`${group}.${key}\``, ({ item }) => {
    const value = item.match[group];
    return isObject(value) ? value[key] : undefined;
  }, []);

export const logElementsExporter: Exporter<Match> = {
  id: 'webmunk-extension-log-elements',
  label: 'Webmunk: Static Page Elements Log',
  generators: ['webmunk-extension-log-elements'],
  layout: 'per-source',
  rowsAre: 'one row per element matched by a pattern; one file per source',
  rows: patternMatches,
  rowReads: ['pattern-matches'],
  columns: [
    ...POINT_COLUMNS,
    TAB_ID,
    PAGE_ID,
    sensitive('URL', 'url', 'encrypted-only'),
    sensitive('Page Title', 'page-title', 'encrypted-first'),
    column('Pattern', 'string', 'the CSS pattern (key of `pattern-matches`)', ({ item }) => item.pattern, []),
    geometry('Top', 'offset', 'top'),
    geometry('Left', 'offset', 'left'),
    geometry('Width', 'size', 'width'),
    geometry('Height', 'size', 'height'),
    column('Element HTML', 'string', "the match's `element-content*`, else its `element-content!`, line breaks removed", ({ point, item }) =>
      removeLineBreaks(point.sensitive(ELEMENT_CONTENT, 'encrypted-first', item.match)), []),
  ],
};
