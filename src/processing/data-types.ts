/**
 * The data-type catalog: every generator id the references describe (Webmunk G0–G2 clients and
 * PDK built-ins), with its label and the rule for its secondary identifier (pdk-server.md §7.6,
 * webmunk-server.md §3). Unknown generator ids are welcome: they are stored like any other, with
 * their id as label and no secondary identifier. `syncDataTypes` writes this list to the
 * `data_types` table, which the processing SQL joins.
 */
import type { Pool } from '../db/database.ts';

export type SecondaryRule =
  | { kind: 'key'; path: string[] }
  | { kind: 'url-host'; path: string[] }
  | { kind: 'voices-present'; path: string[] }
  /** the original's engagement level from the point's own `incoming_engagement` and `outgoing_engagement` (path: none) */
  | { kind: 'engagement'; path: [] };

export interface DataType {
  identifier: string;
  label: string;
  secondary?: SecondaryRule;
}

const key = (...path: string[]): SecondaryRule => ({ kind: 'key', path });
const engagement: SecondaryRule = { kind: 'engagement', path: [] };

export const DATA_TYPES: readonly DataType[] = [
  // Webmunk G1 extension core (webmunk-server.md §3.2)
  { identifier: 'webmunk-extension-matched-rule', label: 'Webmunk: Rule Matches', secondary: key('rule') },
  { identifier: 'webmunk-extension-class-added', label: 'Webmunk: Class Added Event', secondary: key('class-name') },
  { identifier: 'webmunk-extension-element-show', label: 'Webmunk: Element Visible Events', secondary: key('element-class') },
  { identifier: 'webmunk-extension-element-hide', label: 'Webmunk: Element Hidden Events', secondary: key('element-class') },
  { identifier: 'webmunk-extension-element-click', label: 'Webmunk: Page Click', secondary: key('element-class') },
  { identifier: 'webmunk-extension-scroll-position', label: 'Webmunk: Page Scrolls' },
  { identifier: 'webmunk-extension-log-elements', label: 'Webmunk: Static Page Elements Log' },
  { identifier: 'webmunk-extension-action', label: 'Webmunk: User Extension Actions', secondary: key('action') },
  { identifier: 'webmunk-local-tasks', label: 'Webmunk: Visible Tasks' },
  { identifier: 'webmunk-amazon-order', label: 'Webmunk: Amazon Order Items', secondary: key('order-number') },
  { identifier: 'webmunk-amazon-order-count', label: 'Webmunk: Amazon Order Count' },
  { identifier: 'cookie-manager-extension-action', label: 'Cookie Manager: Extension Actions', secondary: key('action') },
  { identifier: 'browser-cookies', label: 'Browser Cookies' },
  { identifier: 'search-mirror-result', label: 'Search Mirror: Results' },
  { identifier: 'search-mirror-result-ai', label: 'Search Mirror: AI Results' },
  { identifier: 'search-mirror-result-news', label: 'Search Mirror: News Results' },
  { identifier: 'search-suggestions-result', label: 'Search Mirror: Suggestions' },
  { identifier: 'pdk-external-amazon-item', label: 'Amazon Items' },
  { identifier: 'pdk-external-engagement-amazon', label: 'Amazon Engagement', secondary: engagement },
  { identifier: 'pdk-external-chatgpt-message', label: 'ChatGPT Messages' },
  { identifier: 'pdk-external-engagement-chatgpt', label: 'ChatGPT Engagement', secondary: engagement },
  // G0 browser extension
  { identifier: 'pdk-web-added-blacklist-term', label: 'Web: Added Blocklist Term' },
  { identifier: 'pdk-web-deleted-blacklist-term', label: 'Web: Deleted Blocklist Term' },
  // G2 webmunk-* / rex-* modules (webmunk-clients.md §3.4)
  { identifier: 'webmunk-history-visit', label: 'History: Visits (webmunk)' },
  { identifier: 'rex-history-visit', label: 'History: Visits' },
  { identifier: 'webmunk-history-filtered-url-debug', label: 'History: Filtered URL (debug)' },
  { identifier: 'webmunk-spider-result', label: 'Spider: Results (webmunk)' },
  { identifier: 'rex-spider-result', label: 'Spider: Results' },
  { identifier: 'rex-conversation', label: 'AI Chatbot Conversations', secondary: key('platform') },
  { identifier: 'rex-spider-chatgpt-complete', label: 'Spider: ChatGPT Run Complete' },
  { identifier: 'webmunk-live-mirror', label: 'Live Mirror: Conversations' },
  { identifier: 'llm-chatbot-interaction', label: 'Live Mirror: Chatbot Interactions', secondary: key('chatbot_name') },
  { identifier: 'perplexity-discover-news', label: 'Perplexity Discover: News' },
  { identifier: 'perplexity-discover-article', label: 'Perplexity Discover: Articles' },
  { identifier: 'perplexity-finance-sources', label: 'Perplexity Finance: Sources' },
  { identifier: 'page-manipulation', label: 'Page Manipulation' },
  { identifier: 'rex-visit-graph-hop', label: 'Visit Graph: Hops', secondary: key('capture_rule') },
  { identifier: 'rex-page-event', label: 'Page Events', secondary: key('event_type') },
  // PDK built-ins (pdk-server.md §7.6)
  { identifier: 'pdk-app-event', label: 'App Events', secondary: key('event_name') },
  { identifier: 'pdk-bluetooth-devices', label: 'Bluetooth Devices', secondary: key('device_class') },
  { identifier: 'pdk-connection-test', label: 'Device Connection Test' },
  { identifier: 'pdk-data-frequency', label: 'Data Frequency' },
  { identifier: 'pdk-device-battery', label: 'Device Battery Status', secondary: key('status') },
  { identifier: 'pdk-docker-test', label: 'Docker Setup Test Point' },
  { identifier: 'pdk-fitbit', label: 'Fitbit', secondary: key('fitbit_type') },
  { identifier: 'pdk-foreground-application', label: 'Foreground Application', secondary: key('application') },
  { identifier: 'pdk-geofences', label: 'Geofence Events', secondary: key('transition') },
  { identifier: 'pdk-google-fit', label: 'Google Fit', secondary: key('reading-type') },
  { identifier: 'pdk-issues', label: 'Reported Issues' },
  { identifier: 'pdk-location', label: 'Device Location', secondary: key('status') },
  { identifier: 'pdk-mitmproxy-visit', label: 'PDK mitmproxy Web Visits', secondary: { kind: 'url-host', path: ['url'] } },
  { identifier: 'pdk-nokia-health', label: 'Nokia Health', secondary: key('datastream') },
  { identifier: 'pdk-withings', label: 'Withings', secondary: key('datastream') },
  { identifier: 'pdk-withings-device', label: 'Withings Device', secondary: key('datastream') },
  { identifier: 'pdk-notification-events', label: 'Notification Events', secondary: key('action') },
  { identifier: 'pdk-pedometer', label: 'Device Pedometer' },
  { identifier: 'pdk-personal-data', label: 'PDK Personal Data Reports' },
  { identifier: 'pdk-phone-calls', label: 'Phone Calls', secondary: key('type') },
  { identifier: 'pdk-screen-state', label: 'Screen State', secondary: key('state') },
  { identifier: 'pdk-sensor-accelerometer', label: 'Accelerometer Sensor' },
  { identifier: 'pdk-sensor-light', label: 'Light Sensor' },
  { identifier: 'pdk-system-status', label: 'System Status' },
  { identifier: 'pdk-text-messages', label: 'Text Messages', secondary: key('direction') },
  { identifier: 'pdk-time-of-day', label: 'Time of Day' },
  { identifier: 'pdk-usage-event-daily-summary', label: 'Device Usage Events (Daily Summary)' },
  { identifier: 'pdk-usage-stats', label: 'Device Usage Events', secondary: key('event_type') },
  { identifier: 'pdk-user', label: 'User State' },
  { identifier: 'pdk-voice-activity', label: 'Voice Activity Detection', secondary: { kind: 'voices-present', path: ['voices_present'] } },
  { identifier: 'pdk-web-visit', label: 'Web Visit' },
];

/** Label for any generator id, known or not. */
export function labelFor(identifier: string): string {
  return DATA_TYPES.find((t) => t.identifier === identifier)?.label ?? identifier;
}

/** Writes the catalog to `data_types` (insert or update; rows for ids no longer listed stay). */
export async function syncDataTypes(pool: Pool): Promise<void> {
  await pool.query(
    `INSERT INTO data_types (identifier, label, secondary_kind, secondary_path)
     SELECT t.identifier, t.label, t.secondary_kind, ARRAY(SELECT jsonb_array_elements_text(t.secondary_path))
     FROM jsonb_to_recordset($1::jsonb) AS t(identifier text, label text, secondary_kind text, secondary_path jsonb)
     ON CONFLICT (identifier) DO UPDATE
       SET label = excluded.label, secondary_kind = excluded.secondary_kind, secondary_path = excluded.secondary_path
       WHERE (data_types.label, data_types.secondary_kind, data_types.secondary_path)
         IS DISTINCT FROM (excluded.label, excluded.secondary_kind, excluded.secondary_path)`,
    [JSON.stringify(DATA_TYPES.map((t) => ({
      identifier: t.identifier,
      label: t.label,
      secondary_kind: t.secondary?.kind ?? null,
      secondary_path: t.secondary?.path ?? [],
    })))],
  );
}
