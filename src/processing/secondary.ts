/**
 * A point's secondary identifier, by its data type's rule (the `data_types` table, which
 * data-types.ts keeps), computed here as PostgreSQL's `point #>> path` and the rule's expression
 * would give it. Text, booleans, null and absent values read the same in both; a number, object or
 * array is printed by PostgreSQL in its own way (a number keeps its digits as sent: `1.50`), so for
 * those the answer is SQL_SECONDARY and PostgreSQL computes it from the point's text.
 */
import { isPlainObject } from './point-fields.ts';

export interface SecondaryRuleRow {
  secondary_kind: 'key' | 'url-host' | 'voices-present' | 'engagement' | null;
  secondary_path: string[] | null;
}

export const SQL_SECONDARY = Symbol('secondary identifier computed by PostgreSQL');

// PostgreSQL's substring(... FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)'); the same
// regular expression reads the same in both dialects.
const URL_HOST = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]+)/;

/** A path step into an array: PostgreSQL reads the step as an index there. */
const INDEXED = Symbol('path through an array');

/** `point #>> path` when it reads the same here; undefined for SQL NULL; SQL_SECONDARY when not. */
function textAt(point: unknown, path: string[]): string | undefined | typeof SQL_SECONDARY | typeof INDEXED {
  let value = point;
  for (const key of path) {
    if (Array.isArray(value)) return INDEXED;
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return undefined;
  return SQL_SECONDARY;
}

const isPositive = (value: unknown) => typeof value === 'number' && value > 0;

/**
 * An engagement point's level, as the original's create_engagement_event set it (ED utils.py):
 * incoming engagement first, then whether there is an outgoing one at all, then whether it counts.
 */
function engagementLevel(point: unknown): string | null {
  if (!isPlainObject(point)) return null;
  if (isPositive(point.incoming_engagement)) return 'incoming active';
  if (point.outgoing_engagement === undefined || point.outgoing_engagement === null) return 'none';
  return isPositive(point.outgoing_engagement) ? 'active' : 'passive';
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The rule's expression applied to `point #>> path` (undefined: SQL NULL). An engagement rule's
 * path is the point itself (`{}`), read here from its text; secondaryIdentifier reads it in Node.
 */
export function applyRule(kind: NonNullable<SecondaryRuleRow['secondary_kind']>, text: string | undefined): string | null {
  switch (kind) {
    case 'key':
      return text ?? null;
    case 'url-host':
      return text === undefined ? null : (URL_HOST.exec(text)?.[1] ?? null);
    case 'voices-present':
      return text === 'true' ? 'present' : text === 'false' ? 'not-present' : 'unknown';
    case 'engagement':
      return text === undefined ? null : engagementLevel(parsedOrUndefined(text));
  }
}

export function secondaryIdentifier(point: unknown, rule: SecondaryRuleRow | undefined): string | null | typeof SQL_SECONDARY {
  if (!rule?.secondary_kind || !rule.secondary_path) return null;
  if (rule.secondary_kind === 'engagement') return engagementLevel(point);
  const text = textAt(point, rule.secondary_path);
  if (text === INDEXED) return SQL_SECONDARY;
  if (text !== SQL_SECONDARY) return applyRule(rule.secondary_kind, text);
  // A number, object or array: printed by PostgreSQL, it cannot start with a URL scheme nor be
  // 'true' or 'false'; only the key rule needs PostgreSQL's text.
  return rule.secondary_kind === 'key' ? SQL_SECONDARY : applyRule(rule.secondary_kind, undefined);
}
