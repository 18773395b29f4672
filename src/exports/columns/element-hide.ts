/**
 * webmunk-extension-element-hide, "Webmunk: Element Hidden Events" (webmunk-server.md §5.3.5).
 * The original's header put Visible before Tab ID and Page ID while its rows did not; ours uses
 * the show layout for both (docs/exports.md, fixed bugs).
 */
import { onePerPoint, type Exporter } from '../exporter.ts';
import { visibilityColumns } from './element-show.ts';

export const elementHideExporter: Exporter = {
  id: 'webmunk-extension-element-hide',
  label: 'Webmunk: Element Hidden Events',
  generators: ['webmunk-extension-element-hide'],
  layout: 'single',
  rowsAre: 'one row per point',
  rows: onePerPoint,
  columns: visibilityColumns('encrypted-first'),
};
