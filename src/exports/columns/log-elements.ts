/**
 * webmunk-extension-log-elements, "Webmunk: Static Page Elements Log" (webmunk-server.md §5.3.6):
 * one file per source, one row per pattern match. The original filled a match's missing HTML
 * with the point-level `element-content!`; ours reads the match's own fields only.
 */
import { removeLineBreaks, type ExportPoint } from '../export-point.ts';
import type { Exporter, ExportRow } from '../exporter.ts';
import { column, PAGE_ID, POINT_COLUMNS, sensitive, TAB_ID } from './common.ts';

interface Match {
  pattern: string;
  match: Record<string, unknown>;
}

function* patternMatches(point: ExportPoint): Iterable<ExportRow<Match>> {
  const matches = point.get('pattern-matches');
  if (!matches || typeof matches !== 'object' || Array.isArray(matches)) return;
  for (const [pattern, list] of Object.entries(matches as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    // Malformed matches are skipped, as in the original.
    for (const match of list) if (match && typeof match === 'object' && !Array.isArray(match)) yield { point, item: { pattern, match: match as Record<string, unknown> } };
  }
}

const geometry = (header: string, group: string, key: string) =>
  column<Match>(header, 'double', `match \`${group}.${key}\``, ({ item }) => {
    const value = item.match[group];
    return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  });

export const logElementsExporter: Exporter<Match> = {
  id: 'webmunk-extension-log-elements',
  label: 'Webmunk: Static Page Elements Log',
  generators: ['webmunk-extension-log-elements'],
  layout: 'per-source',
  rowsAre: 'one row per element matched by a pattern; one file per source',
  rows: patternMatches,
  columns: [
    ...POINT_COLUMNS,
    TAB_ID,
    PAGE_ID,
    sensitive('URL', 'url', 'encrypted-only'),
    sensitive('Page Title', 'page-title', 'encrypted-first'),
    column('Pattern', 'string', 'the CSS pattern (key of `pattern-matches`)', ({ item }) => item.pattern),
    geometry('Top', 'offset', 'top'),
    geometry('Left', 'offset', 'left'),
    geometry('Width', 'size', 'width'),
    geometry('Height', 'size', 'height'),
    column('Element HTML', 'string', "the match's `element-content*`, else its `element-content!`, line breaks removed", ({ point, item }) =>
      removeLineBreaks(point.sensitive('element-content', 'encrypted-first', item.match))),
  ],
};
