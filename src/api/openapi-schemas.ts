/**
 * The pieces of the API's OpenAPI document that come from the code: the filter keys and orderings
 * of the allow-lists (POINT_FIELDS, SOURCE_FIELDS, …), the paging limits, the reply shapes with their
 * keys in the order the routes write them, and the error replies from the error catalogue. Built
 * from the same constants the routes use, so the document cannot drift from what the server takes.
 */
import { ERRORS, type ErrorCode } from '../errors.ts';
import { MAX_OFFSET, MAX_PAGE_SIZE } from './api-request.ts';
import { TOKEN_LENGTH } from './api-tokens.ts';
import { IGNORED_FILTER_KEY, MAX_CONDITIONS, MAX_IN_VALUES, type FieldSpec, type FieldType, type Lookup } from './lookups.ts';

export type JsonSchema = Record<string, unknown>;

const VALUE: Record<FieldType, JsonSchema> = {
  text: { type: 'string', description: 'Text; a number is read as its decimal text.' },
  time: {
    type: 'string',
    format: 'date-time',
    description: 'ISO 8601, as Python\'s isoformat() writes it (e.g. "2024-05-17T19:30:37.123456+00:00"); microseconds are kept; no offset means UTC; a date alone is its midnight.',
  },
  integer: { type: 'integer', description: 'An integer, or its decimal text.' },
};

/** What one `field__lookup` takes. */
function lookupSchema(spec: FieldSpec, lookup: Lookup): JsonSchema {
  switch (lookup) {
    case 'isnull':
      return { type: 'boolean', description: spec.nullable === false ? 'Never null: true matches nothing, false everything.' : 'true: the field is null; false: it is set.' };
    case 'in':
      return { type: 'array', items: VALUE[spec.type], maxItems: MAX_IN_VALUES, description: `Any of these values (at most ${MAX_IN_VALUES}).` };
    case 'exact':
      if (spec.nullOnly) return { type: 'null', description: 'Only null is accepted; the field is never null, so this matches nothing (the Python client always excludes {"pk": null}).' };
      return { ...VALUE[spec.type], type: [VALUE[spec.type].type, 'null'], description: `${VALUE[spec.type].description} null: the field is null${spec.nullable === false ? ' (never: matches nothing)' : ''}.` };
    default:
      return { ...VALUE[spec.type], description: `${{ gt: 'After / greater than', gte: 'At or after / at least', lt: 'Before / less than', lte: 'At or before / at most' }[lookup]} the value. ${VALUE[spec.type].description}` };
  }
}

/** Every key a filter or exclude object may hold for these fields: `name` (= `name__exact`) and `name__lookup`. */
export function filterKeys(fields: Record<string, FieldSpec>): Map<string, JsonSchema> {
  const keys = new Map<string, JsonSchema>();
  for (const [name, spec] of Object.entries(fields)) {
    for (const lookup of spec.lookups) {
      const schema = lookupSchema(spec, lookup);
      if (lookup === 'exact') keys.set(name, schema);
      keys.set(`${name}__${lookup}`, schema);
    }
  }
  return keys;
}

/** One filter (or exclude) object: its keys are ANDed. Unknown keys are refused (400), one key excepted. */
export function filterObjectSchema(fields: Record<string, FieldSpec>, withIgnoredKey: boolean): JsonSchema {
  const properties = Object.fromEntries(filterKeys(fields));
  if (withIgnoredKey) {
    properties[IGNORED_FILTER_KEY] = {
      deprecated: true,
      description: 'Ignored. The enrollment server\'s sync_amazon_orders sends its client\'s retry setting as a filter; it is dropped so that job works. Every other unknown key is refused with 400.',
    };
  }
  return { type: 'object', properties, additionalProperties: false, maxProperties: MAX_CONDITIONS };
}

export function conditionListSchema(objectRef: string, what: 'filters' | 'excludes'): JsonSchema {
  const meaning = what === 'filters'
    ? 'Each object is one filter: a row must match every key of every object.'
    : 'Each object removes the rows that match all its keys (Django\'s .exclude()); a row whose field is null is not matched, so it stays. An empty object removes nothing.';
  return { type: 'array', items: { $ref: objectRef }, maxItems: MAX_CONDITIONS, default: [], description: meaning };
}

/** `order_by`: a list of lists of field names (the Python client adds one inner list per order_by() call), each optionally with "-". */
export function orderSchema(orderable: Record<string, string>, unordered: string): JsonSchema {
  const names = Object.keys(orderable).flatMap((name) => [name, `-${name}`]);
  return {
    type: 'array',
    items: { type: 'array', items: { type: 'string', enum: names } },
    default: [],
    example: [['-created']],
    description: `Fields to order by, "-" for descending, at most ${MAX_CONDITIONS} in all. ${unordered}`,
  };
}

export const PAGE_SIZE_SCHEMA: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 32, description: `Rows per page, 1 to ${MAX_PAGE_SIZE} (the original had no limit). Echoed in the reply.` };
export const PAGE_INDEX_SCHEMA: JsonSchema = {
  type: 'integer',
  minimum: 0,
  default: 0,
  description: `Page number from 0: the page starts at row page_index × page_size, which may be at most ${MAX_OFFSET.toLocaleString('en')} (an offset reads every row before it). Page further with created or id filters.`,
};

export const TOKEN_SCHEMA: JsonSchema = {
  type: 'string',
  minLength: 1,
  description: `An API token (${TOKEN_LENGTH} letters and digits): a service token from \`dcs tokens create\` or a staff token from request-token.json. The same as an Authorization: Bearer header, which wins when both are sent. Never in the query string (refused with 400).`,
};

/** The reply of an error: its status, and the codes that status can carry here with their usual messages. */
export function errorResponse(codes: ErrorCode[], extra = ''): JsonSchema {
  const status = ERRORS[codes[0]].status;
  if (codes.some((code) => ERRORS[code].status !== status)) throw new Error(`codes of different statuses: ${codes.join(', ')}`);
  const lines = codes.map((code) => `\`${code}\`: ${ERRORS[code].message}`);
  return {
    description: `${lines.join(' ')}${extra ? ` ${extra}` : ''}`,
    content: {
      'application/json': {
        schema: {
          allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }],
        },
      },
    },
  };
}

/** Error responses keyed by status, from the codes an operation can answer with. */
export function errorResponses(codes: ErrorCode[], notes: Partial<Record<number, string>> = {}): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), errorResponse(list, notes[status])]));
}

/** A Retry-After header, as the login limits send it. */
export const RETRY_AFTER: JsonSchema = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };
