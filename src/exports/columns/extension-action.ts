/** webmunk-extension-action, "Webmunk: User Extension Actions" (webmunk-server.md §5.3.2). */
import { perPointExporter } from '../exporter.ts';
import { POINT_COLUMNS, property } from './common.ts';

export const extensionActionExporter = perPointExporter('webmunk-extension-action', 'Webmunk: User Extension Actions', [...POINT_COLUMNS, property('Action', 'string', 'action')]);
