/**
 * The PDK query API's filters, excludes and orderings as an allow-list turned into parameterised
 * SQL. The original handed every key to Django's ORM, so a token holder could walk relations up to
 * password hashes and other users' tokens (ecosystem-api.md §4.1.2); here a key is a known field
 * and one of its lookups, anything else is refused with the key named.
 *
 * A filter is a list of objects; keys inside one object are ANDed, and so are the objects. An
 * exclude object removes the rows it matches as a whole (Django's `.exclude(**obj)`), where a row
 * whose field is NULL is not matched and so is kept.
 */
import { DcsError } from '../errors.ts';

export type FieldType = 'text' | 'time' | 'integer';
export type Lookup = 'exact' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'isnull';

export interface FieldSpec {
  /** the SQL expression the field reads */
  sql: string;
  type: FieldType;
  lookups: readonly Lookup[];
  /** false: a field never NULL, whose `isnull` is a constant */
  nullable?: boolean;
  /** true: the field may only be compared with null (the CLI's exclude {"pk": null}) */
  nullOnly?: boolean;
}

const OPERATORS: Record<'exact' | 'gt' | 'gte' | 'lt' | 'lte', string> = { exact: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
/** Longest `__in` list: enough for a page of the enrollment server's participants, bounded. */
export const MAX_IN_VALUES = 10_000;
/** Filter or exclude objects per call, and keys per object. */
const MAX_CONDITIONS = 64;

/** Collects the parameters of one statement: each value becomes $n. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function refuse(message: string): never {
  throw new DcsError('DCS_ERR_API_QUERY', message);
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** JavaScript's Date rolls 2024-02-30 over to March; PostgreSQL refuses it. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number);
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

/**
 * ISO 8601 text (what Python's isoformat() sends) as PostgreSQL reads it; no offset means UTC.
 * The text, not a JavaScript Date, goes to PostgreSQL: microseconds matter for `created__gt`,
 * where the enrollment server sends back the newest `created` it saw.
 */
function timeParam(key: string, value: unknown): string {
  const match = typeof value === 'string' ? ISO_TIME.exec(value.trim()) : null;
  // JavaScript checks the calendar (no 2024-02-30) at millisecond precision.
  const offset = (match?.[3] ?? 'Z').replace(/^([+-]\d{2}):?(\d{2})?$/, (_all, hours: string, minutes?: string) => `${hours}:${minutes ?? '00'}`);
  const text = match ? `${match[1]}T${match[2] ?? '00:00'}${offset}` : '';
  if (!match || !isCalendarDate(match[1]) || Number.isNaN(new Date(text.replace(/(\.\d{3})\d+/, '$1')).getTime())) {
    refuse(`"${key}" takes a date and time in ISO 8601, e.g. "2024-05-17T19:30:37.123456+00:00".`);
  }
  return text;
}

function scalar(key: string, type: FieldType, value: unknown): unknown {
  if (type === 'time') return timeParam(key, value);
  if (type === 'integer') {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) refuse(`"${key}" takes an integer.`);
    return n;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') refuse(`"${key}" takes a string.`);
  return value;
}

const CAST: Record<FieldType, string> = { text: 'text', time: 'timestamptz', integer: 'bigint' };

/** One `field__lookup: value` as SQL, or a refusal naming the key. */
function condition(fields: Record<string, FieldSpec>, key: string, value: unknown, params: SqlParams): string {
  // A field name may itself contain "__" (group__name): the whole key first, then name__lookup.
  const split = key.lastIndexOf('__');
  const [name, lookup] = Object.hasOwn(fields, key) || split < 0 ? [key, 'exact'] : [key.slice(0, split), key.slice(split + 2)];
  const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (!field) refuse(`Unknown filter field "${key}". Allowed: ${describeFields(fields)}.`);
  if (!field.lookups.includes(lookup as Lookup)) {
    refuse(`"${name}" does not take the lookup "${lookup}". Allowed: ${field.lookups.map((l) => (l === 'exact' ? name : `${name}__${l}`)).join(', ')}.`);
  }
  if (lookup === 'isnull') {
    if (typeof value !== 'boolean') refuse(`"${key}" takes true or false.`);
    if (field.nullable === false) return value ? 'false' : 'true';
    return `${field.sql} IS ${value ? '' : 'NOT '}NULL`;
  }
  if (lookup === 'in') {
    if (!Array.isArray(value)) refuse(`"${key}" takes a list.`);
    if (value.length > MAX_IN_VALUES) refuse(`"${key}" takes at most ${MAX_IN_VALUES} values.`);
    return `${field.sql} = ANY (${params.add(value.map((v) => scalar(key, field.type, v)))}::${CAST[field.type]}[])`;
  }
  if (field.nullOnly && value !== null) refuse(`"${key}" can only be compared with null.`);
  // Django: an exact lookup on None is IS NULL.
  if (value === null) {
    if (lookup !== 'exact') refuse(`"${key}" takes a value, not null.`);
    return field.nullable === false ? 'false' : `${field.sql} IS NULL`;
  }
  return `${field.sql} ${OPERATORS[lookup as keyof typeof OPERATORS]} ${params.add(scalar(key, field.type, value))}::${CAST[field.type]}`;
}

export function describeFields(fields: Record<string, FieldSpec>): string {
  return Object.entries(fields).map(([name, f]) => `${name} (${f.lookups.join(', ')})`).join('; ');
}

/**
 * Keys a real caller sends that mean nothing: the enrollment server's sync_amazon_orders passes
 * its client's retry setting as a filter (ecosystem-api.md §2.2.6). It is never a column, so it is
 * dropped rather than failing the job; every other unknown key is refused.
 */
const IGNORED_KEYS = new Set(['max_retry_duration']);

function conditionsOf(fields: Record<string, FieldSpec>, objects: unknown, what: string, params: SqlParams): string[][] {
  if (!Array.isArray(objects)) refuse(`"${what}" must be a JSON list of objects, e.g. [{"source": "12345678"}].`);
  if (objects.length > MAX_CONDITIONS) refuse(`"${what}" takes at most ${MAX_CONDITIONS} objects.`);
  return objects.map((object) => {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) refuse(`Each item of "${what}" must be a JSON object.`);
    const keys = Object.keys(object).filter((key) => !IGNORED_KEYS.has(key));
    if (keys.length > MAX_CONDITIONS) refuse(`A "${what}" object takes at most ${MAX_CONDITIONS} keys.`);
    return keys.map((key) => condition(fields, key, (object as Record<string, unknown>)[key], params));
  });
}

/** The WHERE clause (without the keyword) of filters and excludes; 'true' when both are empty. */
export function whereClause(fields: Record<string, FieldSpec>, filters: unknown, excludes: unknown, params: SqlParams): string {
  const parts: string[] = [];
  for (const conditions of conditionsOf(fields, filters, 'filters', params)) parts.push(...conditions);
  for (const conditions of conditionsOf(fields, excludes, 'excludes', params)) {
    // An empty exclude object excludes everything, as Django's .exclude() with no arguments does not:
    // it is a no-op there, so it is one here too.
    if (conditions.length > 0) parts.push(`NOT coalesce(${conditions.join(' AND ')}, false)`);
  }
  return parts.length > 0 ? parts.join(' AND ') : 'true';
}

/** The ORDER BY list of `order_by` ([["-created"], …]), each allowed field optionally with `-`. */
export function orderClause(orderable: Record<string, string>, orderBy: unknown): string[] {
  if (!Array.isArray(orderBy) || !orderBy.every(Array.isArray)) refuse('"order_by" must be a JSON list of lists of field names, e.g. [["-created"]].');
  const names = (orderBy as unknown[][]).flat();
  if (names.length > MAX_CONDITIONS) refuse(`"order_by" takes at most ${MAX_CONDITIONS} fields.`);
  return names.map((name) => {
    if (typeof name !== 'string') refuse('"order_by" takes field names (strings).');
    const descending = name.startsWith('-');
    const field = descending ? name.slice(1) : name;
    if (!Object.hasOwn(orderable, field)) refuse(`Cannot order by "${name}". Allowed: ${Object.keys(orderable).join(', ')} (with "-" for newest or largest first).`);
    return `${orderable[field]} ${descending ? 'DESC' : 'ASC'}`;
  });
}
