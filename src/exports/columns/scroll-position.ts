/** webmunk-extension-scroll-position, "Webmunk: Page Scrolls" (webmunk-server.md §5.3.8). */
import { perPointExporter } from '../exporter.ts';
import { PAGE_ID, POINT_COLUMNS, property, sensitive, TAB_ID } from './common.ts';

export const scrollPositionExporter = perPointExporter('webmunk-extension-scroll-position', 'Webmunk: Page Scrolls', [
  ...POINT_COLUMNS,
  TAB_ID,
  PAGE_ID,
  property('Top', 'double', 'top', '`top` of the point (scroll offset)'),
  property('Left', 'double', 'left', '`left` of the point (scroll offset)'),
  property('Width', 'double', 'width', '`width` of the point (viewport)'),
  property('Height', 'double', 'height', '`height` of the point (viewport)'),
  sensitive('URL', 'url', 'encrypted-first'),
  sensitive('Page Title', 'page-title', 'encrypted-first'),
]);
