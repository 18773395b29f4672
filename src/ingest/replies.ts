/**
 * Reply bodies, byte for byte as the original PDK server writes them (Python json.dumps: ", " and
 * ": " separators; indent 2 where the original pretty-prints). Clients parse these.
 */
const pretty = (entries: [string, string][]) => `{\n${entries.map(([k, v]) => `  "${k}": ${v}`).join(',\n')}\n}`;
const compact = (entries: [string, string][]) => `{${entries.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;

const BUNDLE_ADDED: [string, string][] = [['message', '"Data bundle added successfully, and ready for processing."'], ['added', 'true']];
const DISABLED = '"Data collection has been disabled and incoming transmissions are being discarded."';

export const REPLIES = {
  /** POST and PUT to add-bundle.json. */
  bundleAdded: compact(BUNDLE_ADDED),
  /** CREATE to add-bundle.json (the original pretty-prints this one). */
  bundleAddedPretty: pretty(BUNDLE_ADDED),
  pointAdded: pretty([['message', '"Data point added successfully."']]),
  bundleDisabled: pretty([['message', DISABLED], ['added', 'true']]),
  pointDisabled: pretty([['message', DISABLED]]),
  /** No `added` key, so clients that check it retry. */
  unparsableBundle: compact([['message', '"Unable to parse data bundle."']]),
  unparsablePoint: compact([['message', '"Unable to parse data point."']]),
} as const;

/**
 * The reply when neither the database nor the spool can keep an upload (503). Clients must keep
 * the points and resend them (webmunk-clients.md §1.3): those that send X-PDK-IDENTIFIER (2026
 * and later) resend after a non-2xx reply with a JSON body, and hang on a body that is not JSON;
 * the older ones count any JSON body as success and drop the points, so they get plain text.
 */
export function refusal(sendsIdentifier: boolean): { contentType: string; body: string } {
  return sendsIdentifier
    ? { contentType: 'application/json', body: compact([['message', '"The server cannot store uploads right now; please retry later."'], ['added', 'false']]) }
    : { contentType: 'text/plain', body: 'The server cannot store uploads right now; please retry later.\n' };
}

/** The routes whose replies carry CORS_HEADERS (app.ts): the upload endpoints, nothing else. */
export const CORS_ROUTES: readonly string[] = ['/data/add-bundle.json', '/data/add-point.json'];

/** On every upload reply: extensions without host permissions preflight, and must be let through. */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'CREATE, POST, PUT, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Content-Encoding, Authorization, X-PDK-IDENTIFIER',
} as const;
