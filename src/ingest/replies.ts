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

/** On every reply: extensions without host permissions preflight, and must be let through. */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'CREATE, POST, PUT, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Content-Encoding, Authorization, X-PDK-IDENTIFIER',
} as const;
