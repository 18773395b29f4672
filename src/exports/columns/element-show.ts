/** webmunk-extension-element-show, "Webmunk: Element Visible Events" (webmunk-server.md §5.3.5). */
import { perPointExporter } from '../exporter.ts';
import { column, PAGE_ID, POINT_COLUMNS, property, sensitive, TAB_ID } from './common.ts';
import type { SensitiveOrder } from '../export-point.ts';

/** The row layout of show, hide and the combined visibility export (they differ only in `order`). */
export function visibilityColumns(order: SensitiveOrder) {
  return [
    ...POINT_COLUMNS,
    TAB_ID,
    PAGE_ID,
    column('Visible', 'int', '1 for an element-show point, 0 for element-hide', ({ point }) => (point.stored.generatorId === 'webmunk-extension-element-show' ? 1 : 0), []),
    property('Element Class', 'string', 'element-class'),
    property('Top', 'double', ['offset', 'top']),
    property('Left', 'double', ['offset', 'left']),
    property('Width', 'double', ['size', 'width']),
    property('Height', 'double', ['size', 'height']),
    sensitive('URL', 'url', order),
    sensitive('Page Title', 'page-title', order),
    sensitive('Element HTML', 'element-content', order, { html: true }),
  ];
}

export const elementShowExporter = perPointExporter('webmunk-extension-element-show', 'Webmunk: Element Visible Events', visibilityColumns('encrypted-first'));
