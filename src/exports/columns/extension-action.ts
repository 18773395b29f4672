/** webmunk-extension-action, "Webmunk: User Extension Actions" (webmunk-server.md §5.3.2). */
import { onePerPoint, type Exporter } from '../exporter.ts';
import { POINT_COLUMNS, property } from './common.ts';

export const extensionActionExporter: Exporter = {
  id: 'webmunk-extension-action',
  label: 'Webmunk: User Extension Actions',
  generators: ['webmunk-extension-action'],
  layout: 'single',
  rowsAre: 'one row per point',
  rows: onePerPoint,
  columns: [...POINT_COLUMNS, property('Action', 'string', 'action')],
};
