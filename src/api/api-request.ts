/**
 * What an API call sends: the form the Python client posts (every value a string, the JSON ones as
 * JSON text), or the same fields as one JSON object (values may then be JSON already); the token
 * from the `token` field or an `Authorization: Bearer` header, never from the query string (it
 * would end up in proxies' access logs).
 */
import type { FastifyRequest } from 'fastify';
import { DcsError } from '../errors.ts';

export type ApiFields = Record<string, unknown>;

/** Largest page a caller may ask for (the original had no limit: one call could load the whole table). */
export const MAX_PAGE_SIZE = 1000;
/** Deepest row a page may start at: OFFSET reads every row before it. Page further with id or created filters. */
export const MAX_OFFSET = 1_000_000;

function refuse(message: string): never {
  throw new DcsError('DCS_ERR_API_QUERY', message);
}

export function readFields(request: FastifyRequest): ApiFields {
  const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      refuse('The body is not valid JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) refuse('A JSON body must be one object of fields.');
    return parsed as ApiFields;
  }
  // No prototype: a field named __proto__ is a field like any other.
  const fields: ApiFields = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) fields[name] = value;
  return fields;
}

export function readToken(request: FastifyRequest, fields: ApiFields): string | undefined {
  if (/[?&]token=/.test(request.url)) refuse('Send the token in the form field "token" or an Authorization: Bearer header, never in the URL.');
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const field = typeof fields.token === 'string' ? fields.token.trim() : undefined;
  // An empty token never matches anything (the original matched a blank token row, §4.1.1).
  return bearer || field || undefined;
}

/** A field holding JSON: JSON text in a form, or the value itself in a JSON body. */
export function jsonField(fields: ApiFields, name: string, fallback: unknown): unknown {
  const value = fields[name];
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return refuse(`"${name}" is not valid JSON.`);
  }
}

function integerField(fields: ApiFields, name: string, fallback: number, min: number, max: number): number {
  const value = fields[name];
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) refuse(`"${name}" must be an integer from ${min} to ${max}.`);
  return n;
}

export function pageOf(fields: ApiFields): { pageSize: number; pageIndex: number } {
  const pageSize = integerField(fields, 'page_size', 32, 1, MAX_PAGE_SIZE);
  const pageIndex = integerField(fields, 'page_index', 0, 0, Math.floor(MAX_OFFSET / pageSize));
  return { pageSize, pageIndex };
}

/** `latest_pk`: page over the points that existed at an earlier call (its reply's `latest`). */
export function snapshotOf(fields: ApiFields): number | undefined {
  return fields.latest_pk === undefined ? undefined : integerField(fields, 'latest_pk', 0, 0, Number.MAX_SAFE_INTEGER);
}
