/** webmunk-extension-matched-rule, "Webmunk: Rule Matches" (webmunk-server.md §5.3.7). */
import { perPointExporter } from '../exporter.ts';
import { column, PAGE_ID, POINT_COLUMNS, property, sensitive, TAB_ID } from './common.ts';

export const matchedRuleExporter = perPointExporter('webmunk-extension-matched-rule', 'Webmunk: Rule Matches', [
  ...POINT_COLUMNS,
  TAB_ID,
  PAGE_ID,
  property('Rule', 'string', 'rule'),
  column('Count', 'int', '`count`, -1 when absent', ({ point }) => point.get('count') ?? -1, ['count']),
  sensitive('URL', 'url', 'encrypted-first'),
  sensitive('Page Title', 'page-title', 'encrypted-first'),
]);
