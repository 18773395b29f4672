/**
 * A point's secondary identifier, by its data type's rule (the `data_types` table, which
 * data-types.ts keeps), computed here as PostgreSQL's `point #>> path` and the rule's expression
 * would give it. Text, booleans, null and absent values read the same in both; a number, object or
 * array is printed by PostgreSQL in its own way (a number keeps its digits as sent: `1.50`), so for
 * those the answer is SQL_SECONDARY and PostgreSQL computes it from the point's text.
 */
import { isPlainObject } from './point-fields.ts';

export interface SecondaryRuleRow {
  secondary_kind: 'key' | 'url-host' | 'voices-present' | null;
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

/** The rule's expression applied to `point #>> path` (undefined: SQL NULL). */
export function applyRule(kind: NonNullable<SecondaryRuleRow['secondary_kind']>, text: string | undefined): string | null {
  switch (kind) {
    case 'key':
      return text ?? null;
    case 'url-host':
      return text === undefined ? null : (URL_HOST.exec(text)?.[1] ?? null);
    case 'voices-present':
      return text === 'true' ? 'present' : text === 'false' ? 'not-present' : 'unknown';
  }
}

export function secondaryIdentifier(point: unknown, rule: SecondaryRuleRow | undefined): string | null | typeof SQL_SECONDARY {
  if (!rule?.secondary_kind || !rule.secondary_path) return null;
  const text = textAt(point, rule.secondary_path);
  if (text === INDEXED) return SQL_SECONDARY;
  if (text !== SQL_SECONDARY) return applyRule(rule.secondary_kind, text);
  // A number, object or array: printed by PostgreSQL, it cannot start with a URL scheme nor be
  // 'true' or 'false'; only the key rule needs PostgreSQL's text.
  return rule.secondary_kind === 'key' ? SQL_SECONDARY : applyRule(rule.secondary_kind, undefined);
}
