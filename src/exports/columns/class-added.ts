/** webmunk-extension-class-added, "Webmunk: Class Added Event" (webmunk-server.md §5.3.3). */
import { perPointExporter } from '../exporter.ts';
import { PAGE_ID, POINT_COLUMNS, property, sensitive, TAB_ID } from './common.ts';

export const classAddedExporter = perPointExporter('webmunk-extension-class-added', 'Webmunk: Class Added Event', [
  ...POINT_COLUMNS,
  TAB_ID,
  PAGE_ID,
  sensitive('URL', 'url', 'encrypted-first'),
  sensitive('Page Title', 'page-title', 'encrypted-first'),
  property('Class Name', 'string', 'class-name'),
  sensitive('Element HTML', 'element-content', 'encrypted-first', { html: true }),
]);
