/**
 * The OpenAPI 3.1 document of the PDK query API (GET /data/api/openapi.json, docs/api.md). Field
 * lists, orderings and limits come from the constants the routes use (openapi-schemas.ts), replies
 * from openapi-replies.ts; only the prose is written here.
 */
import type { ErrorCode } from '../errors.ts';
import { API_BODY_LIMIT, API_STATEMENT_TIMEOUT_MS } from './api.routes.ts';
import { MAX_NAME } from './api-request.ts';
import { MAX_STAFF_TOKENS_PER_USER } from './tokens.repository.ts';
import { POINT_FIELDS, POINT_ORDER } from './points.repository.ts';
import { REPLY_SCHEMAS } from './openapi-replies.ts';
import {
  conditionListSchema, errorResponses, filterObjectSchema, orderSchema, PAGE_INDEX_SCHEMA, PAGE_SIZE_SCHEMA, RETRY_AFTER, TOKEN_SCHEMA,
  type JsonSchema,
} from './openapi-schemas.ts';
import { SOURCE_FIELDS, SOURCE_ORDER } from './sources.repository.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const DOUBLED_SLASH = 'Doubled slashes are folded: the Python PDK client, given a site URL ending in "/", asks for /data//api/…, which is the same call.';
const OTHER_METHODS = 'Other methods (GET, PUT, DELETE, PATCH) get 405 DCS_ERR_METHOD_NOT_ALLOWED with Allow: POST.';
const JSON_TEXT_TOO = 'In a JSON body, filters, excludes, order_by and updates may be JSON values or, as in a form, JSON text.';

/** Every error a token-checked query can end in, besides its own. */
const QUERY_ERRORS: ErrorCode[] = ['DCS_ERR_API_QUERY', 'DCS_ERR_API_TOKEN', 'DCS_ERR_BODY_TOO_LARGE', 'DCS_ERR_INTERNAL', 'DCS_ERR_API_TIMEOUT', 'DCS_ERR_DATABASE_UNAVAILABLE'];
const ERROR_NOTES: Partial<Record<number, string>> = {
  400: 'Nothing was read or changed; the message names the field.',
  413: `The body is over ${API_BODY_LIMIT.toLocaleString('en')} bytes.`,
};

/** The two encodings of a request: the form the Python client posts (JSON text in some fields), or one JSON object. */
function body(schema: string, jsonFields: string[], required: boolean): JsonSchema {
  return {
    required,
    content: {
      'application/x-www-form-urlencoded': {
        schema: ref(schema),
        encoding: Object.fromEntries(jsonFields.map((field) => [field, { contentType: 'application/json' }])),
      },
      'application/json': { schema: ref(schema) },
    },
  };
}

const QUERY_SCHEMAS: Record<string, JsonSchema> = {
  DataPointFilter: filterObjectSchema(POINT_FIELDS, true),
  DataSourceFilter: filterObjectSchema(SOURCE_FIELDS, true),
  DataPointsQuery: {
    type: 'object',
    description: 'Unknown fields are ignored (filter keys are not: see DataPointFilter).',
    properties: {
      token: TOKEN_SCHEMA,
      page_size: PAGE_SIZE_SCHEMA,
      page_index: PAGE_INDEX_SCHEMA,
      filters: conditionListSchema('#/components/schemas/DataPointFilter', 'filters'),
      excludes: conditionListSchema('#/components/schemas/DataPointFilter', 'excludes'),
      order_by: orderSchema(POINT_ORDER, 'Without one, points come oldest first (by created, then id). Rows of equal order come by id, so pages are stable.'),
      latest_pk: { type: 'integer', minimum: 0, description: 'Only points with an id up to this (the latest of an earlier reply): the pages of one query then stay the same however many points arrive meanwhile.' },
    },
  },
  DataSourcesQuery: {
    type: 'object',
    description: 'Unknown fields are ignored (filter keys are not: see DataSourceFilter).',
    properties: {
      token: TOKEN_SCHEMA,
      page_size: PAGE_SIZE_SCHEMA,
      page_index: PAGE_INDEX_SCHEMA,
      filters: conditionListSchema('#/components/schemas/DataSourceFilter', 'filters'),
      excludes: conditionListSchema('#/components/schemas/DataSourceFilter', 'excludes'),
      order_by: orderSchema(SOURCE_ORDER, 'Without one, sources come by identifier; ties always end by identifier.'),
    },
  },
  DataSourcesUpdate: {
    type: 'object',
    required: ['filters', 'updates'],
    properties: {
      token: TOKEN_SCHEMA,
      filters: { ...conditionListSchema('#/components/schemas/DataSourceFilter', 'filters'), minItems: 1, description: 'The sources to change; at least one key is required (an update of every source is refused).' },
      excludes: conditionListSchema('#/components/schemas/DataSourceFilter', 'excludes'),
      updates: {
        type: 'array',
        minItems: 1,
        items: { oneOf: [nameUpdate('group', 'The group (study arm) by name, created when missing; null: no group.'), nameUpdate('name', 'The source\'s name (names are unique: setting one name on several sources fails with 400); null: none.')] },
        example: [{ group: 'Arm A' }],
        description: 'Applied in order to every matching source, in one transaction. Nothing else can be changed.',
      },
    },
  },
  TokenRequest: {
    type: 'object',
    required: ['username', 'password'],
    properties: { username: { type: 'string', description: 'A dashboard account (dcs users create).' }, password: { type: 'string', format: 'password' } },
  },
};

function nameUpdate(key: 'group' | 'name', description: string): JsonSchema {
  return { type: 'object', required: [key], additionalProperties: false, properties: { [key]: { type: ['string', 'null'], minLength: 1, maxLength: MAX_NAME, description } } };
}

/** request-token.json's refusals: those of the dashboard's login, with Retry-After where waiting helps. */
function tokenErrors(): Record<string, JsonSchema> {
  const responses = errorResponses(['DCS_ERR_API_QUERY', 'DCS_ERR_LOGIN_FAILED', 'DCS_ERR_BODY_TOO_LARGE', 'DCS_ERR_LOGIN_LOCKED', 'DCS_ERR_INTERNAL', 'DCS_ERR_BUSY', 'DCS_ERR_DATABASE_UNAVAILABLE'], {
    400: 'username or password is missing.',
    429: 'Too many failed logins for this user name or from this address.',
    503: 'With DCS_ERR_BUSY, Retry-After: 5.',
  });
  responses['429'].headers = RETRY_AFTER;
  responses['503'].headers = RETRY_AFTER;
  return responses;
}

function ok(schema: string, description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

function paths(): JsonSchema {
  return {
    '/data/api/data-points.json': {
      description: `${DOUBLED_SLASH} ${OTHER_METHODS}`,
      post: {
        operationId: 'queryDataPoints',
        tags: ['data points'],
        summary: 'Query data points',
        description: `A page of the points that match filters and excludes, in order_by's order, and how many match. The enrollment server asks for a participant's newest point (page_size 1 or 32, order_by [["-created"]]) every 15 minutes. Needs a token of either scope. ${JSON_TEXT_TOO}`,
        requestBody: body('DataPointsQuery', ['filters', 'excludes', 'order_by'], false),
        responses: { 200: ok('DataPointsReply', 'The page. Always exactly 200: the Python client retries any other status for about 16 minutes.'), ...errorResponses(QUERY_ERRORS, ERROR_NOTES) },
      },
    },
    '/data/api/data-sources.json': {
      description: `${DOUBLED_SLASH} ${OTHER_METHODS}`,
      post: {
        operationId: 'queryDataSources',
        tags: ['data sources'],
        summary: 'Query data sources (participants)',
        description: `A page of the participants that match, with their group and active alerts. The enrollment server reads each participant's group here before it mirrors its study arm. Needs a token of either scope. ${JSON_TEXT_TOO}`,
        requestBody: body('DataSourcesQuery', ['filters', 'excludes', 'order_by'], false),
        responses: { 200: ok('DataSourcesReply', 'The page.'), ...errorResponses(QUERY_ERRORS, ERROR_NOTES) },
      },
    },
    '/data/api/data-sources/update.json': {
      description: `${DOUBLED_SLASH} ${OTHER_METHODS}`,
      post: {
        operationId: 'updateDataSources',
        tags: ['data sources'],
        summary: 'Set the group (or name) of data sources',
        description: `Sets the group or the name of every participant the filters match; no other column can change. Needs a read-write token. ${JSON_TEXT_TOO}`,
        requestBody: body('DataSourcesUpdate', ['filters', 'excludes', 'updates'], true),
        responses: { 200: ok('UpdateReply', 'Done.'), ...errorResponses([...QUERY_ERRORS, 'DCS_ERR_API_SCOPE'], ERROR_NOTES) },
      },
    },
    '/data/api/request-token.json': {
      description: `${DOUBLED_SLASH} ${OTHER_METHODS}`,
      post: {
        operationId: 'requestToken',
        tags: ['access'],
        summary: 'A short-lived token for a staff member',
        description: `A dashboard account's user name and password for a new read-write token that expires after API_TOKEN_HOURS (default 24). Checked under the dashboard's login limits. A user keeps at most ${MAX_STAFF_TOKENS_PER_USER} live tokens: the oldest is revoked beyond that. Servers use a service token from \`dcs tokens create\` instead.`,
        security: [],
        requestBody: body('TokenRequest', [], true),
        responses: { 200: ok('TokenReply', 'A new token.'), ...tokenErrors() },
      },
    },
    '/data/api/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        tags: ['access'],
        summary: 'This document',
        description: 'No token needed: it describes the API, never any data.',
        security: [],
        responses: { 200: { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  };
}

/** The whole document, with `serverUrl` (PUBLIC_URL) as its server. */
export function buildOpenApiDocument(serverUrl: string): JsonSchema {
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'webmunk-dcs PDK query API',
      version: '1.0.0',
      description: [
        'The Passive Data Kit query API of the Webmunk data collection server, wire-compatible with the original PDK server: the enrollment server polls it for participants\' latest points and mirrors study-arm groups onto sources; analysts query points with it.',
        'Requests are POSTs of form fields (what the Python PDK client sends: filters, excludes, order_by and updates as JSON text) or of one JSON object with the same fields. A token goes in the form field or JSON key "token", or an Authorization: Bearer header; never in the URL.',
        `Filters, excludes and orderings are an allow-list: an unknown field or lookup is refused with 400 naming it. A query runs at most ${API_STATEMENT_TIMEOUT_MS / 1000} s; a body is at most ${API_BODY_LIMIT.toLocaleString('en')} bytes.`,
        `Success is always exactly 200 with Content-Type: application/json; every error is JSON {"message", "code"} (docs/errors.md). ${DOUBLED_SLASH}`,
      ].join('\n\n'),
    },
    servers: [{ url: serverUrl, description: 'This server (PUBLIC_URL)' }],
    security: [{ apiToken: [] }],
    tags: [
      { name: 'data points', description: 'Observations uploaded by participants\' browsers.' },
      { name: 'data sources', description: 'Participants, their groups (study arms) and alerts.' },
      { name: 'access', description: 'Getting a token; this document.' },
    ],
    paths: paths(),
    components: {
      securitySchemes: {
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token: a service token (`dcs tokens create NAME [--scope read|read-write] [--expires DAYS]`, shown once, stored hashed) or a staff token from request-token.json. It may instead be sent as the form field or JSON key "token", as the Python client does (OpenAPI has no scheme for a token in the body). read tokens query; updates need read-write.',
        },
      },
      schemas: { ...QUERY_SCHEMAS, ...REPLY_SCHEMAS },
    },
  };
  return document;
}
