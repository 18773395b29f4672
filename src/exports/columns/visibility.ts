/**
 * webmunk-visibility-export, "Webmunk: Element Hide & Show Events" (webmunk-server.md §5.4): show
 * and hide points in one file. Unlike the two separate exporters it reads the `!` form first.
 */
import { onePerPoint, type Exporter } from '../exporter.ts';
import { visibilityColumns } from './element-show.ts';

export const visibilityExporter: Exporter = {
  id: 'webmunk-visibility-export',
  label: 'Webmunk: Element Hide & Show Events',
  generators: ['webmunk-extension-element-show', 'webmunk-extension-element-hide'],
  layout: 'single',
  rowsAre: 'one row per element-show or element-hide point',
  rows: onePerPoint,
  columns: visibilityColumns('plain-first'),
};
