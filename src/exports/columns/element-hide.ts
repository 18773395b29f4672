/**
 * webmunk-extension-element-hide, "Webmunk: Element Hidden Events" (webmunk-server.md §5.3.5).
 * The original's header put Visible before Tab ID and Page ID while its rows did not; ours uses
 * the show layout for both (docs/exports.md, fixed bugs).
 */
import { perPointExporter } from '../exporter.ts';
import { visibilityColumns } from './element-show.ts';

export const elementHideExporter = perPointExporter('webmunk-extension-element-hide', 'Webmunk: Element Hidden Events', visibilityColumns('encrypted-first'));
