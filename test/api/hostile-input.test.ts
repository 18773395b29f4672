/**
 * Hostile calls to the PDK query API (ecosystem-api.md §4.1): unknown fields, relation-walking
 * lookups, huge or negative pages, malformed JSON, missing, wrong, expired and revoked tokens,
 * mass assignment. Every one a 4xx JSON error that names the problem, nothing leaked, nothing changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createServiceToken } from '../../src/api/tokens.repository.ts';
import { pdkPost, pyJson, type ApiBody } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();
let readWrite: string;
let readOnly: string;

async function token(name: string, scope: 'read' | 'read-write'): Promise<string> {
  const created = await createServiceToken(server.db.pool, { name, scope, expiresDays: 30, createdBy: 'test' });
  if (!('token' in created)) throw new Error('token not created');
  return created.token;
}

/** What the hostile calls could change: the sources, their groups, the tokens. */
async function snapshot(): Promise<unknown> {
  const { rows: sources } = await server.db.pool.query('SELECT source, name, group_id, suppress_alerts, removed_at FROM data_sources ORDER BY source');
  const { rows: groups } = await server.db.pool.query('SELECT id, name, suppress_alerts FROM source_groups ORDER BY id');
  const { rows: tokens } = await server.db.pool.query('SELECT id, name, scope, expires_at, revoked_at FROM api_tokens ORDER BY id');
  return { sources, groups, tokens };
}

beforeAll(async () => {
  await server.db.pool.query(`INSERT INTO source_groups (name) VALUES ('Arm A')`);
  await server.db.pool.query(`INSERT INTO data_sources (source, first_seen, name, group_id) VALUES ('48213077', now(), 'Ana', (SELECT id FROM source_groups)), ('11112222', now(), NULL, NULL)`);
  readWrite = await token('enrollment', 'read-write');
  readOnly = await token('analyst', 'read');
});

function expectRefusal(reply: { status: number; headers: Headers; body: ApiBody }, status: number, code: string, message?: RegExp): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(reply.body).sort()).toEqual(['code', 'message']);
  expect(reply.body.code).toBe(code);
  if (message) expect(reply.body.message).toMatch(message);
}

describe('queries outside the allow-list', () => {
  const points = (fields: Record<string, string>) => pdkPost(server.baseUrl, '/api/data-points.json', { token: readWrite, ...fields });
  const sources = (fields: Record<string, string>) => pdkPost(server.baseUrl, '/api/data-sources.json', { token: readWrite, ...fields });

  it('refuse unknown fields and relation-walking lookups, naming the key', async () => {
    const before = await snapshot();
    expectRefusal(await points({ filters: pyJson([{ secret: 1 }]) }), 400, 'DCS_ERR_API_QUERY', /Unknown filter field "secret"/);
    expectRefusal(await points({ filters: pyJson([{ source_reference__source__password: 'x' }]) }), 400, 'DCS_ERR_API_QUERY', /"source_reference__source__password"/);
    expectRefusal(await points({ filters: pyJson([{ source__password: 'x' }]) }), 400, 'DCS_ERR_API_QUERY', /"source" does not take the lookup "password"/);
    expectRefusal(await points({ filters: pyJson([{ generator_identifier__regex: '.*' }]) }), 400, 'DCS_ERR_API_QUERY', /lookup "regex"/);
    expectRefusal(await points({ filters: pyJson([{ properties__url__contains: 'bank' }]) }), 400, 'DCS_ERR_API_QUERY', /properties__url__contains/);
    expectRefusal(await points({ excludes: pyJson([{ bundle_id: 1 }]) }), 400, 'DCS_ERR_API_QUERY', /"bundle_id"/);
    expectRefusal(await points({ filters: '[{"__proto__": {"source": "x"}}]' }), 400, 'DCS_ERR_API_QUERY', /"__proto__"/);
    expectRefusal(await sources({ filters: pyJson([{ configuration__versions__creator__password__startswith: 'p' }]) }), 400, 'DCS_ERR_API_QUERY', /configuration__versions__creator__password__startswith/);
    expectRefusal(await sources({ filters: pyJson([{ group__suppress_alerts: true }]) }), 400, 'DCS_ERR_API_QUERY', /group__suppress_alerts/);
    expectRefusal(await sources({ filters: pyJson([{ pk: '1' }]) }), 400, 'DCS_ERR_API_QUERY', /only be compared with null/);
    expectRefusal(await points({ order_by: pyJson([['-password']]) }), 400, 'DCS_ERR_API_QUERY', /Cannot order by "-password"/);
    expectRefusal(await points({ order_by: pyJson([['properties']]) }), 400, 'DCS_ERR_API_QUERY', /Cannot order by "properties"/);
    expectRefusal(await sources({ order_by: pyJson([['group__suppress_alerts']]) }), 400, 'DCS_ERR_API_QUERY', /Cannot order by/);
    expect(await snapshot()).toEqual(before);
  });

  it('refuse bad values, huge and negative pages, and malformed JSON', async () => {
    expectRefusal(await points({ filters: pyJson([{ created__gt: 'yesterday' }]) }), 400, 'DCS_ERR_API_QUERY', /"created__gt" takes a date and time/);
    expectRefusal(await points({ filters: pyJson([{ created__gt: '2024-02-30T00:00:00+00:00' }]) }), 400, 'DCS_ERR_API_QUERY', /ISO 8601/);
    expectRefusal(await points({ filters: pyJson([{ source__in: 'abc' }]) }), 400, 'DCS_ERR_API_QUERY', /takes a list/);
    expectRefusal(await points({ filters: pyJson([{ source: { nested: 1 } }]) }), 400, 'DCS_ERR_API_QUERY', /takes a string/);
    expectRefusal(await points({ filters: pyJson([{ id__gt: 'ten' }]) }), 400, 'DCS_ERR_API_QUERY', /takes an integer/);
    expectRefusal(await points({ filters: pyJson([{ source: 'a\u0000b' }]) }), 400, 'DCS_ERR_API_QUERY', /NUL/);
    expectRefusal(await points({ filters: pyJson([{ source__in: ['ok', '\u0000'] }]) }), 400, 'DCS_ERR_API_QUERY', /NUL/);
    expectRefusal(await points({ page_size: '100000' }), 400, 'DCS_ERR_API_QUERY', /"page_size" must be an integer from 1 to 1000/);
    expectRefusal(await points({ page_size: '0' }), 400, 'DCS_ERR_API_QUERY', /page_size/);
    expectRefusal(await points({ page_index: '-1' }), 400, 'DCS_ERR_API_QUERY', /"page_index" must be an integer from 0/);
    expectRefusal(await points({ page_index: '1e3' }), 400, 'DCS_ERR_API_QUERY', /page_index/);
    expectRefusal(await points({ page_size: '1000', page_index: '1001' }), 400, 'DCS_ERR_API_QUERY', /page_index/);
    expectRefusal(await points({ filters: '[{"source": "1"' }), 400, 'DCS_ERR_API_QUERY', /"filters" is not valid JSON/);
    expectRefusal(await points({ filters: '{"source": "1"}' }), 400, 'DCS_ERR_API_QUERY', /"filters" must be a JSON list of objects/);
    expectRefusal(await points({ order_by: '["-created"]' }), 400, 'DCS_ERR_API_QUERY', /"order_by" must be a JSON list of lists/);
    const json = await fetch(`${server.baseUrl}/data/api/data-points.json`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${readWrite}` }, body: '{"filters": [' });
    expect(json.status).toBe(400);
    expect((await json.json()).code).toBe('DCS_ERR_API_QUERY');
  });

  it('treat values as values: an injection attempt matches nothing', async () => {
    const reply = await points({ filters: pyJson([{ source: "x' OR 1=1 --" }, { source__in: ["'); DROP TABLE data_points; --"] }]) });
    expect(reply.status).toBe(200);
    expect(reply.body.count).toBe(0);
    const named = await sources({ filters: pyJson([{ name: "Ana' OR 'a'='a" }]) });
    expect(named.body.count).toBe(0);
  });
});

describe('tokens', () => {
  const call = (fields: Record<string, string>, headers: Record<string, string> = {}) => pdkPost(server.baseUrl, '/api/data-sources.json', fields, headers);

  it('a call without a valid token is refused, whatever is missing or wrong', async () => {
    expectRefusal(await call({}), 401, 'DCS_ERR_API_TOKEN', /needs a token/);
    // the original matched an empty token to a blank token row (§4.1.1)
    expectRefusal(await call({ token: '' }), 401, 'DCS_ERR_API_TOKEN', /needs a token/);
    expectRefusal(await call({ token: '   ' }), 401, 'DCS_ERR_API_TOKEN');
    expectRefusal(await call({ token: readWrite.slice(0, -1) }), 401, 'DCS_ERR_API_TOKEN', /Unknown API token/);
    expectRefusal(await call({}, { authorization: 'Bearer nope' }), 401, 'DCS_ERR_API_TOKEN', /Unknown/);
    expectRefusal(await call({}, { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'DCS_ERR_API_TOKEN');
    // never in a URL (proxies log those)
    const inUrl = await fetch(`${server.baseUrl}/data/api/data-sources.json?token=${readWrite}`, { method: 'POST' });
    expect(inUrl.status).toBe(400);
    expect((await inUrl.json()).message).toMatch(/never in the URL/);
    // the same token in a header works
    const ok = await call({}, { authorization: `Bearer ${readWrite}` });
    expect(ok.status).toBe(200);
    expect(ok.body.count).toBe(2);
  });

  it('an expired or revoked token is refused, saying which', async () => {
    const expiring = await token('short', 'read');
    expect((await call({ token: expiring })).status).toBe(200);
    await server.db.pool.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'`);
    expectRefusal(await call({ token: expiring }), 401, 'DCS_ERR_API_TOKEN', /expired/);
    const revoked = await token('gone', 'read-write');
    await server.db.pool.query(`UPDATE api_tokens SET revoked_at = now() WHERE name = 'gone'`);
    expectRefusal(await call({ token: revoked }), 401, 'DCS_ERR_API_TOKEN', /revoked/);
  });

  it('refuses a body over the API\'s limit, naming that limit', async () => {
    const huge = await pdkPost(server.baseUrl, '/api/data-points.json', { token: readWrite, filters: pyJson([{ source__in: Array.from({ length: 120_000 }, (_, i) => String(10_000_000 + i)) }]) });
    expectRefusal(huge, 413, 'DCS_ERR_BODY_TOO_LARGE', /this endpoint's limit of 1048576 bytes/);
  });

  it('answers other methods than POST 405 with Allow: POST', async () => {
    const get = await fetch(`${server.baseUrl}/data/api/data-points.json`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await get.json()).code).toBe('DCS_ERR_METHOD_NOT_ALLOWED');
  });
});

describe('data-sources/update.json changes a group or a name, nothing else', () => {
  const update = (fields: Record<string, string>, as = readWrite) => pdkPost(server.baseUrl, '/api/data-sources/update.json', { token: as, ...fields });

  it('refuses other columns, missing filters and read-only tokens, changing nothing', async () => {
    const before = await snapshot();
    const filters = pyJson([{ identifier: '48213077' }]);
    expectRefusal(await update({ filters, updates: pyJson([{ suppress_alerts: true }]) }), 400, 'DCS_ERR_API_QUERY', /one of "group" or "name"/);
    expectRefusal(await update({ filters, updates: pyJson([{ identifier: 'someone-else' }]) }), 400, 'DCS_ERR_API_QUERY');
    expectRefusal(await update({ filters, updates: pyJson([{ group: 'B', removed_at: null }]) }), 400, 'DCS_ERR_API_QUERY');
    // the first update is valid, the second is not: neither is applied
    expectRefusal(await update({ filters, updates: pyJson([{ group: 'Arm Z' }, { server: 'evil' }]) }), 400, 'DCS_ERR_API_QUERY');
    expectRefusal(await update({ filters, updates: pyJson([{ group: 42 }]) }), 400, 'DCS_ERR_API_QUERY', /"group" takes a name/);
    expectRefusal(await update({ filters, updates: pyJson([{ group: 'A\u0000' }]) }), 400, 'DCS_ERR_API_QUERY', /"group" takes a name/);
    expectRefusal(await update({ filters, updates: '[]' }), 400, 'DCS_ERR_API_QUERY', /"updates" must be/);
    expectRefusal(await update({ filters }), 400, 'DCS_ERR_API_QUERY', /"updates" must be/);
    // without filters an update would reach every source
    expectRefusal(await update({ filters: '[]', excludes: pyJson([{ pk: null }]), updates: pyJson([{ group: 'Arm A' }]) }), 400, 'DCS_ERR_API_QUERY', /"filters" must name the sources/);
    expectRefusal(await update({ filters: pyJson([{ max_retry_duration: 5 }]), updates: pyJson([{ group: 'Arm A' }]) }), 400, 'DCS_ERR_API_QUERY', /"filters" must name the sources/);
    expectRefusal(await update({ filters: pyJson([{}]), updates: pyJson([{ group: 'Arm A' }]) }), 400, 'DCS_ERR_API_QUERY', /"filters" must name the sources/);
    expectRefusal(await update({ filters, updates: pyJson([{ group: 'Arm Z' }]) }, readOnly), 403, 'DCS_ERR_API_SCOPE');
    // two sources cannot share a name
    expectRefusal(await update({ filters: pyJson([{ identifier: '11112222' }]), updates: pyJson([{ name: 'Ana' }]) }), 400, 'DCS_ERR_API_QUERY', /already has that name/);
    expect(await snapshot()).toEqual(before);
  });

  it('renames a source', async () => {
    const reply = await update({ filters: pyJson([{ identifier: '11112222' }]), updates: pyJson([{ name: 'Bo' }]) });
    expect(reply.body).toEqual({ updated: 1 });
    const { rows } = await server.db.pool.query(`SELECT name FROM data_sources WHERE source = '11112222'`);
    expect(rows[0].name).toBe('Bo');
  });
});
