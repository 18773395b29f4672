/**
 * GET /data/api/openapi.json against the real server: served without a token, structurally valid
 * OpenAPI 3.1 (no validator package is installed, so the structure is checked here: every $ref
 * resolves, every operation has responses, ...), and true to the server: every filter key and
 * ordering it lists is accepted and nothing else is, its limits are the ones enforced, and its
 * reply shapes have the keys of real replies in their order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE } from '../../src/api/api-request.ts';
import type { FieldSpec, Lookup } from '../../src/api/lookups.ts';
import { buildOpenApiDocument } from '../../src/api/openapi.ts';
import { MAX_NAME } from '../../src/api/api-request.ts';
import { IGNORED_FILTER_KEY, MAX_CONDITIONS } from '../../src/api/lookups.ts';
import { POINT_FIELDS, POINT_ORDER } from '../../src/api/points.repository.ts';
import { SOURCE_FIELDS, SOURCE_ORDER } from '../../src/api/sources.repository.ts';
import { createServiceToken } from '../../src/api/tokens.repository.ts';
import { ERRORS, type ErrorCode } from '../../src/errors.ts';
import { pdkPost, pyJson } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const server = useTestServer();
let doc: Json;
let readToken: string;
let writeToken: string;

const PARTICIPANT = '48213077';
const ALL_LOOKUPS: Lookup[] = ['exact', 'in', 'gt', 'gte', 'lt', 'lte', 'isnull'];
const POINTS = '/data/api/data-points.json';
const SOURCES = '/data/api/data-sources.json';
const UPDATE = '/data/api/data-sources/update.json';
const TOKEN = '/data/api/request-token.json';

async function newToken(name: string, scope: 'read' | 'read-write'): Promise<string> {
  const created = await createServiceToken(server.db.pool, { name, scope, expiresDays: null, createdBy: 'test' });
  if (!('token' in created)) throw new Error('token not created');
  return created.token;
}

beforeAll(async () => {
  const upload = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      payload: JSON.stringify([1, 2, 3].map((i) => ({
        pending_points: i,
        'passive-data-metadata': { source: PARTICIPANT, generator: 'pdk-system-status: Study Browser Extension/0.39', 'generator-id': 'pdk-system-status', timestamp: 1715328000 + i },
      }))),
    }).toString(),
  });
  expect(upload.status).toBe(201);
  await server.process();
  readToken = await newToken('analyst', 'read');
  writeToken = await newToken('enrollment', 'read-write');
  const response = await fetch(`${server.baseUrl}/data/api/openapi.json`);
  expect(response.status).toBe(200);
  doc = await response.json();
});

/** The path's operation of the document, and a call to it with these form fields. */
const call = (path: string, fields: Record<string, unknown>, token = readToken) => pdkPost(server.baseUrl, path.replace('/data/', ''), {
  token,
  ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? v : pyJson(v)])),
});

function resolve(pointer: string): Json {
  if (!pointer.startsWith('#/')) throw new Error(`not a local $ref: ${pointer}`);
  return pointer.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((node: Json | undefined, key) => node?.[key], doc) as Json;
}

function schemaOf(name: string): Json {
  return doc.components.schemas[name];
}

/** Every {$ref} anywhere in the document. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(): Array<{ path: string; method: string; op: Json }> {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) => METHODS.filter((m) => m in item).map((method) => ({ path, method, op: item[method] })));
}

/** A value a filter key's schema accepts. */
function sample(schema: Json): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'null') return null;
  if (type === 'boolean') return true;
  if (type === 'integer') return 1;
  if (type === 'array') return [sample(schema.items)];
  if (schema.format === 'date-time') return '2024-05-10T08:00:00.123456+00:00';
  return PARTICIPANT;
}

/** The keys the allow-list takes: a bare field (exact), and field__lookup for each of its lookups. */
function allowedKeys(fields: Record<string, FieldSpec>): string[] {
  return Object.entries(fields).flatMap(([name, spec]) => spec.lookups.flatMap((l) => (l === 'exact' ? [name, `${name}__exact`] : [`${name}__${l}`])));
}

describe('GET /data/api/openapi.json', () => {
  it('is served to anyone, as JSON, also at the doubled-slash path, and is the document of this server', async () => {
    const response = await fetch(`${server.baseUrl}/data//api/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(doc);
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(server.config.publicUrl))));
    expect(doc.servers).toEqual([expect.objectContaining({ url: server.config.publicUrl })]);
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    const refList = refs(doc);
    expect(refList.length).toBeGreaterThan(20);
    for (const ref of refList) expect(resolve(ref), ref).toBeTypeOf('object');

    const ids = new Set<string>();
    const tags = new Set((doc.tags as Json[]).map((t) => t.name));
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const requirement of doc.security) for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      expect(path).toMatch(/^\//);
      for (const key of Object.keys(item)) expect([...METHODS, 'summary', 'description', 'parameters', 'servers']).toContain(key);
    }
    const ops = operations();
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual([`post ${POINTS}`, `post ${SOURCES}`, `post ${UPDATE}`, `post ${TOKEN}`, 'get /data/api/openapi.json']);
    for (const { path, op } of ops) {
      expect(ids.has(op.operationId), path).toBe(false);
      ids.add(op.operationId);
      for (const tag of op.tags ?? []) expect(tags).toContain(tag);
      for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
      const responses = Object.entries(op.responses as Json);
      expect(responses.length, path).toBeGreaterThan(0);
      for (const [status, response] of responses) {
        expect(status).toMatch(/^([1-5](\d\d|XX)|default)$/);
        expect(typeof response.description, `${path} ${status}`).toBe('string');
      }
      if (op.requestBody) {
        const contents = Object.entries(op.requestBody.content as Json);
        expect(contents.map(([type]) => type).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
        for (const [, media] of contents) {
          const properties = Object.keys(resolve(media.schema.$ref).properties);
          for (const field of Object.keys(media.encoding ?? {})) expect(properties, path).toContain(field);
        }
      }
    }
    for (const [name, schema] of Object.entries(doc.components.schemas as Json)) {
      for (const key of schema.required ?? []) expect(Object.keys(schema.properties), name).toContain(key);
    }
  });

  it('lists every error an operation answers with, with the status of the catalogue', () => {
    for (const { path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (status === '200') continue;
        const codes: ErrorCode[] = response.content['application/json'].schema.allOf[1].properties.code.enum;
        for (const code of codes) expect([path, code, ERRORS[code].status]).toEqual([path, code, Number(status)]);
      }
    }
    const codesOf = (path: string) => Object.values(doc.paths[path].post.responses as Json).flatMap((r) => r.content['application/json'].schema.allOf?.[1].properties.code.enum ?? []);
    expect(codesOf(UPDATE)).toContain('DCS_ERR_API_SCOPE');
    expect(codesOf(POINTS)).not.toContain('DCS_ERR_API_SCOPE');
    expect(codesOf(TOKEN)).toEqual(expect.arrayContaining(['DCS_ERR_LOGIN_FAILED', 'DCS_ERR_LOGIN_LOCKED', 'DCS_ERR_BUSY']));
  });
});

describe('the document and the allow-list', () => {
  const cases = [
    { name: 'data points', path: POINTS, filter: 'DataPointFilter', query: 'DataPointsQuery', fields: POINT_FIELDS, order: POINT_ORDER },
    { name: 'data sources', path: SOURCES, filter: 'DataSourceFilter', query: 'DataSourcesQuery', fields: SOURCE_FIELDS, order: SOURCE_ORDER },
  ];

  for (const c of cases) {
    it(`lists exactly the filter keys of ${c.name}, and the server takes each in filters and excludes`, async () => {
      const properties = schemaOf(c.filter).properties as Json;
      const documented = Object.keys(properties).filter((key) => key !== IGNORED_FILTER_KEY);
      expect(documented.sort()).toEqual(allowedKeys(c.fields).sort());
      expect(schemaOf(c.filter).additionalProperties).toBe(false);
      for (const key of documented) {
        const condition = [{ [key]: sample(properties[key]) }];
        const reply = await call(c.path, { filters: condition, excludes: condition });
        expect([key, reply.status, reply.body.code]).toEqual([key, 200, undefined]);
      }
    });

    it(`refuses every lookup of ${c.name} the document leaves out, and relation walks`, async () => {
      const documented = new Set(Object.keys(schemaOf(c.filter).properties));
      const refused = [
        ...Object.keys(c.fields).flatMap((name) => ALL_LOOKUPS.map((l) => `${name}__${l}`)).filter((key) => !documented.has(key)),
        'properties', 'source__password', 'identifier__regex', 'configuration__versions__creator__password',
      ];
      for (const key of refused) {
        const reply = await call(c.path, { filters: [{ [key]: 'x' }] });
        expect([key, reply.status, reply.body.code]).toEqual([key, 400, 'DCS_ERR_API_QUERY']);
      }
    });

    it(`lists exactly the orderings of ${c.name}`, async () => {
      const names: string[] = schemaOf(c.query).properties.order_by.items.items.enum;
      expect(names.sort()).toEqual(Object.keys(c.order).flatMap((n) => [n, `-${n}`]).sort());
      for (const name of names) expect([name, (await call(c.path, { order_by: [[name]] })).status]).toEqual([name, 200]);
      expect((await call(c.path, { order_by: [['properties']] })).status).toBe(400);
    });

    it(`states the paging limits of ${c.name} that the server enforces`, async () => {
      const pageSize = schemaOf(c.query).properties.page_size;
      expect(pageSize.maximum).toBe(MAX_PAGE_SIZE);
      expect((await call(c.path, { page_size: String(pageSize.maximum) })).body.page_size).toBe(pageSize.maximum);
      expect((await call(c.path, { page_size: String(pageSize.maximum + 1) })).status).toBe(400);
      expect((await call(c.path, { page_size: '1', page_index: '-1' })).status).toBe(400);
      const list = schemaOf(c.query).properties.filters;
      expect(list.maxItems).toBe(MAX_CONDITIONS);
      const many = (n: number) => Array.from({ length: n }, () => ({ [Object.keys(c.fields)[0]]: PARTICIPANT }));
      expect((await call(c.path, { filters: many(list.maxItems) })).status).toBe(200);
      expect((await call(c.path, { filters: many(list.maxItems + 1) })).status).toBe(400);
    });
  }

  it('documents max_retry_duration as ignored, and the server ignores it', async () => {
    expect(schemaOf('DataPointFilter').properties[IGNORED_FILTER_KEY].deprecated).toBe(true);
    const all = await call(POINTS, {});
    const ignored = await call(POINTS, { filters: [{ [IGNORED_FILTER_KEY]: 5 }] });
    expect(ignored.status).toBe(200);
    expect(ignored.body.count).toBe(all.body.count);
  });

  it('states the longest name an update takes', async () => {
    const group = schemaOf('DataSourcesUpdate').properties.updates.items.oneOf[0].properties.group;
    expect(group.maxLength).toBe(MAX_NAME);
    const update = (name: string) => call(UPDATE, { filters: [{ identifier: 'nobody' }], updates: [{ group: name }] }, writeToken);
    expect((await update('g'.repeat(group.maxLength))).body).toEqual({ updated: 0 });
    expect((await update('g'.repeat(group.maxLength + 1))).status).toBe(400);
  });
});

describe('the document and real replies', () => {
  const keysOf = (name: string) => Object.keys(schemaOf(name).properties);

  it('has the keys of each reply in their order', async () => {
    const points = await call(POINTS, { filters: [{ source: PARTICIPANT }] });
    expect(Object.keys(points.body)).toEqual(keysOf('DataPointsReply'));
    expect(points.body.matches).toHaveLength(3);
    for (const match of points.body.matches) {
      expect(Object.keys(match['passive-data-metadata'])).toEqual(expect.arrayContaining(schemaOf('DataPoint').properties['passive-data-metadata'].required));
    }
    const sources = await call(SOURCES, { filters: [{ identifier: PARTICIPANT }] });
    expect(Object.keys(sources.body)).toEqual(keysOf('DataSourcesReply'));
    expect(Object.keys(sources.body.matches[0])).toEqual(keysOf('DataSource'));
    const updated = await call(UPDATE, { filters: [{ identifier: PARTICIPANT }], updates: [{ group: 'Arm A' }] }, writeToken);
    expect(Object.keys(updated.body)).toEqual(keysOf('UpdateReply'));
    const staff = await createStaff(server.db.pool, 'ana', 'a long enough password');
    const token = await pdkPost(server.baseUrl, 'api/request-token.json', staff);
    expect(token.status).toBe(200);
    expect(Object.keys(token.body)).toEqual(keysOf('TokenReply'));
    expect(token.body.token).toMatch(new RegExp(schemaOf('TokenReply').properties.token.pattern));
  });

  it('answers each documented refusal with a status and code the operation lists', async () => {
    const refusals = [
      { path: POINTS, reply: await call(POINTS, { filters: [{ nope: 1 }] }), code: 'DCS_ERR_API_QUERY' },
      { path: POINTS, reply: await call(POINTS, {}, ''), code: 'DCS_ERR_API_TOKEN' },
      { path: SOURCES, reply: await call(SOURCES, {}, 'x'.repeat(64)), code: 'DCS_ERR_API_TOKEN' },
      { path: UPDATE, reply: await call(UPDATE, { filters: [{ identifier: PARTICIPANT }], updates: [{ group: 'B' }] }), code: 'DCS_ERR_API_SCOPE' },
      { path: TOKEN, reply: await pdkPost(server.baseUrl, 'api/request-token.json', { username: 'ana', password: 'wrong' }), code: 'DCS_ERR_LOGIN_FAILED' },
    ];
    for (const { path, reply, code } of refusals) {
      expect(Object.keys(reply.body)).toEqual(keysOf('Error'));
      const response = doc.paths[path].post.responses[String(reply.status)];
      expect([path, reply.body.code]).toEqual([path, code]);
      expect(response.content['application/json'].schema.allOf[1].properties.code.enum).toContain(code);
    }
  });

  it('is right that the four calls answer other methods with 405 and Allow: POST', async () => {
    for (const path of [POINTS, SOURCES, UPDATE, TOKEN]) {
      expect(doc.paths[path].description).toContain('405');
      const response = await fetch(`${server.baseUrl}${path}`);
      expect([path, response.status, response.headers.get('allow'), (await response.json()).code]).toEqual([path, 405, 'POST', 'DCS_ERR_METHOD_NOT_ALLOWED']);
    }
  });
});
