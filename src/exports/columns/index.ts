/** Every exporter, by the data type a request names; anything else gets the generic exporter. */
import type { AnyExporter } from '../exporter.ts';
import { amazonOrderExporter } from './amazon-order.ts';
import { chatgptMessageExporter } from './pdk-external-chatgpt-message.ts';
import { classAddedExporter } from './class-added.ts';
import { elementClickExporter } from './element-click.ts';
import { elementHideExporter } from './element-hide.ts';
import { elementShowExporter } from './element-show.ts';
import { extensionActionExporter } from './extension-action.ts';
import { genericExporter } from './generic.ts';
import { localTasksExporter } from './local-tasks.ts';
import { logElementsExporter } from './log-elements.ts';
import { matchedRuleExporter } from './matched-rule.ts';
import { amazonItemExporter } from './pdk-external-amazon-item.ts';
import { scrollPositionExporter } from './scroll-position.ts';
import { visibilityExporter } from './visibility.ts';

export const WEBMUNK_EXPORTERS: readonly AnyExporter[] = [
  amazonItemExporter, amazonOrderExporter, extensionActionExporter, classAddedExporter, elementClickExporter, elementShowExporter,
  elementHideExporter, logElementsExporter, matchedRuleExporter, scrollPositionExporter, localTasksExporter, visibilityExporter,
  chatgptMessageExporter,
];

/** Export types that are not data types of their own (offered beside the data types). */
export const VIRTUAL_TYPES = [visibilityExporter] as const;

export function exporterFor(type: string, label: string, serverZone: string): AnyExporter {
  return WEBMUNK_EXPORTERS.find((exporter) => exporter.id === type) ?? genericExporter(type, label, serverZone);
}
