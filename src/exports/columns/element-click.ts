/** webmunk-extension-element-click, "Webmunk: Page Click" (webmunk-server.md §5.3.4). `page-content*` is not exported. */
import { perPointExporter } from '../exporter.ts';
import { PAGE_ID, POINT_COLUMNS, property, sensitive, TAB_ID } from './common.ts';

export const elementClickExporter = perPointExporter('webmunk-extension-element-click', 'Webmunk: Page Click', [
  ...POINT_COLUMNS,
  TAB_ID,
  PAGE_ID,
  property('Element Class', 'string', 'element-class'),
  property('Top', 'double', ['offset', 'top']),
  property('Left', 'double', ['offset', 'left']),
  property('Width', 'double', ['size', 'width']),
  property('Height', 'double', ['size', 'height']),
  sensitive('URL', 'url', 'encrypted-only'),
  sensitive('Page Title', 'page-title', 'encrypted-first'),
  // not `page-content*`: the entire page's HTML, on every click (never sent by PostgreSQL: Column.reads)
  sensitive('Element HTML', 'element-content', 'encrypted-first', { html: true }),
]);
