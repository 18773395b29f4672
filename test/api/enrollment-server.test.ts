/**
 * Every call the Webmunk enrollment server makes to the PDK query API (ecosystem-api.md §2.2.5,
 * §2.3, §2.4), sent as its Python client sends them, against points uploaded and processed through
 * the real path; each reply checked key by key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createServiceToken } from '../../src/api/tokens.repository.ts';
import { dataPointsQuery, pdkPost, pyJson } from '../helpers/pdk-client.ts';
import type { Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();
let token: string;

const PARTICIPANT = '48213077';
const OTHER = '11112222';
const T0 = Date.UTC(2024, 4, 10, 8, 0, 0) / 1000; // 2024-05-10T08:00:00Z

function point(source: string, generatorId: string, seconds: number, fields: Record<string, unknown> = {}): Point {
  return {
    ...fields,
    date: Math.round(seconds * 1000),
    'passive-data-metadata': {
      source,
      generator: `${generatorId}: Study Browser Extension/0.39 Mozilla/5.0 (X11; Linux x86_64)`,
      'generator-id': generatorId,
      timestamp: seconds,
      timezone: 'America/New_York',
    },
  };
}

async function upload(points: Point[]): Promise<void> {
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payload: JSON.stringify(points) }).toString(),
  });
  expect(response.status).toBe(201);
}

beforeAll(async () => {
  await upload([
    point(PARTICIPANT, 'pdk-system-status', T0 + 0.25, { pending_points: 64 }),
    point(PARTICIPANT, 'pdk-system-status', T0 + 3600.5, { pending_points: 12 }),
    point(PARTICIPANT, 'webmunk-page-visit', T0 + 7200.123456, { url: 'https://example.org/a' }),
    point(PARTICIPANT, 'webmunk-amazon-order', T0 - 86400, { 'order-number': '111-1111111-1111111', 'order-date': '2024-05-09', url: 'https://www.amazon.com/gp/your-account/order-details?orderID=111', items: [{ url: 'https://www.amazon.com/dp/B0BXYZ1234', title: 'Charger' }] }),
    point(PARTICIPANT, 'webmunk-amazon-order', T0 + 86400, { 'order-number': '222-2222222-2222222', 'order-date': '2024-05-11', url: 'https://www.amazon.com/gp/your-account/order-details?orderID=222', items: [] }),
    point(PARTICIPANT, 'webmunk-amazon-order', T0 + 86400 + 60, { 'order-number': '222-2222222-2222222', 'order-date': '2024-05-11', url: 'https://www.amazon.com/gp/your-account/order-details?orderID=222', items: [] }),
    point(PARTICIPANT, 'webmunk-amazon-order-count', T0 + 120, { period: '2024', count: 7 }),
    point(PARTICIPANT, 'webmunk-amazon-order-count', T0 + 240, { period: '2023', count: 19 }),
    point(OTHER, 'pdk-system-status', T0 + 99999, { pending_points: 3 }),
  ]);
  await server.process();
  const created = await createServiceToken(server.db.pool, { name: 'enrollment', scope: 'read-write', expiresDays: null, createdBy: 'test' });
  if (!('token' in created)) throw new Error('token not created');
  token = created.token;
});

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('Z', '+00:00');

describe('update_data_point_metadata (every 15 minutes, per enrollment)', () => {
  it('finds the newest point after the last one seen, then counts the participant\'s points', async () => {
    const first = await dataPointsQuery(server.baseUrl, token, { filters: [{ source: PARTICIPANT, created__gt: iso(T0 + 3600) }], orderBy: [['-created']] });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    // indented as the original's json.dumps(indent=2), keys in its order
    expect(first.text).toBe(JSON.stringify(first.body, null, 2));
    expect(Object.keys(first.body)).toEqual(['latest', 'count', 'page_index', 'page_size', 'matches']);
    expect(first.body).toMatchObject({ count: 4, page_index: 0, page_size: 32 });
    expect(Number.isInteger(first.body.latest) && first.body.latest >= 9).toBe(true);
    const newest = first.body.matches[0];
    // newest first: the second order, a day after T0 and a minute later
    expect(newest['order-number']).toBe('222-2222222-2222222');
    expect(newest['passive-data-metadata'].pdk_server_created).toBeCloseTo(T0 + 86400 + 60, 6);
    expect(first.body.matches.map((m) => m['passive-data-metadata'].pdk_server_created)).toEqual(
      [T0 + 86400 + 60, T0 + 86400, T0 + 7200.123456, T0 + 3600.5].map((t) => expect.closeTo(t, 5)),
    );
    // the point as uploaded, plus the server's two epoch times
    const recorded = newest['passive-data-metadata'].pdk_server_recorded;
    expect(Math.abs(recorded - Date.now() / 1000)).toBeLessThan(600);
    expect(newest['passive-data-metadata']).toMatchObject({ source: PARTICIPANT, 'generator-id': 'webmunk-amazon-order', timezone: 'America/New_York' });

    const count = await dataPointsQuery(server.baseUrl, token, { filters: [{ source: PARTICIPANT }] });
    expect(count.status).toBe(200);
    expect(count.body.count).toBe(8);
    expect(count.body.matches).toHaveLength(8);
  });

  it('keeps microseconds in created__gt: the newest point itself is not found again', async () => {
    const again = await dataPointsQuery(server.baseUrl, token, { filters: [{ source: PARTICIPANT, created__gt: '2024-05-10T10:00:00.123456+00:00' }], orderBy: [['-created']] });
    expect(again.body.matches.map((m) => m['passive-data-metadata']['generator-id'])).toEqual(['webmunk-amazon-order', 'webmunk-amazon-order']);
  });
});

describe('update_pilot_data_status (page size 1)', () => {
  it('reads pending_points and the time of the newest status point', async () => {
    const reply = await dataPointsQuery(server.baseUrl, token, { pageSize: 1, filters: [{ generator_identifier: 'pdk-system-status', source: PARTICIPANT }], orderBy: [['-created']] });
    expect(reply.body).toMatchObject({ count: 2, page_index: 0, page_size: 1 });
    expect(reply.body.matches).toHaveLength(1);
    expect(reply.body.matches[0].pending_points).toBe(12);
    expect(reply.body.matches[0]['passive-data-metadata'].pdk_server_created).toBeCloseTo(T0 + 3600.5, 6);
    const second = await dataPointsQuery(server.baseUrl, token, { pageSize: 1, pageIndex: 1, filters: [{ generator_identifier: 'pdk-system-status', source: PARTICIPANT }], orderBy: [['-created']] });
    expect(second.body.matches[0].pending_points).toBe(64);
  });
});

describe('update_amazon_task_metadata', () => {
  const enrolled = iso(T0);
  it('counts orders before enrolment, orders since (newest recorded first), and the order-count points since', async () => {
    const initial = await dataPointsQuery(server.baseUrl, token, { filters: [{ generator_identifier: 'webmunk-amazon-order', source: PARTICIPANT, created__lte: enrolled }] });
    expect(initial.body.matches.map((m) => m['order-number'])).toEqual(['111-1111111-1111111']);
    const since = await dataPointsQuery(server.baseUrl, token, { filters: [{ generator_identifier: 'webmunk-amazon-order', source: PARTICIPANT, created__gte: enrolled }], orderBy: [['-recorded']] });
    expect(new Set(since.body.matches.map((m) => m['order-number']))).toEqual(new Set(['222-2222222-2222222']));
    expect(since.body.count).toBe(2);
    const counts = await dataPointsQuery(server.baseUrl, token, { filters: [{ generator_identifier: 'webmunk-amazon-order-count', source: PARTICIPANT, created__gte: enrolled }], orderBy: [['created']] });
    expect(counts.body.matches.map((m) => [m.period, m.count])).toEqual([['2024', 7], ['2023', 19]]);
  });
});

describe('check_wishlist_tasks and sync_amazon_orders', () => {
  it('answer the newest point of a source', async () => {
    const reply = await dataPointsQuery(server.baseUrl, token, { filters: [{ source: OTHER }], orderBy: [['-created']] });
    expect(reply.body.matches[0]['passive-data-metadata'].pdk_server_created).toBeCloseTo(T0 + 99999, 6);
  });

  it('ignore the one bogus filter key sync_amazon_orders sends (max_retry_duration) and read the orders', async () => {
    const reply = await dataPointsQuery(server.baseUrl, token, { filters: [{ max_retry_duration: 5 }, { generator_identifier: 'webmunk-amazon-order', source: PARTICIPANT }] });
    expect(reply.status).toBe(200);
    expect(reply.body.count).toBe(3);
    const order = reply.body.matches.find((m) => m['order-number'] === '111-1111111-1111111');
    expect(order).toMatchObject({ 'order-date': '2024-05-09', items: [{ url: 'https://www.amazon.com/dp/B0BXYZ1234', title: 'Charger' }] });
  });
});

describe('push_group_memberships: data-sources.json and data-sources/update.json', () => {
  const sourceQuery = (identifier: string) => pdkPost(server.baseUrl, '/api/data-sources.json', {
    token, page_size: '32', page_index: '0', filters: pyJson([{ identifier }]), excludes: pyJson([{ pk: null }]), order_by: '[]',
  });
  const update = (identifier: string, group: string | null) => pdkPost(server.baseUrl, '/api/data-sources/update.json', {
    token, filters: pyJson([{ identifier }]), excludes: pyJson([{ pk: null }]), updates: pyJson([{ group }]),
  });

  it('reads a source\'s group, sets it (creating the group), and clears it', async () => {
    const before = await sourceQuery(PARTICIPANT);
    expect(before.status).toBe(200);
    // compact, as the original's
    expect(before.text).toBe(JSON.stringify(before.body));
    expect(Object.keys(before.body)).toEqual(['count', 'page_index', 'page_size', 'matches']);
    expect(before.body.count).toBe(1);
    const match = before.body.matches[0];
    expect(Object.keys(match)).toEqual(['name', 'identifier', 'latest_user_agent', 'suppresses_alerts', 'point_count', 'group', 'active_alerts', 'earliest_point', 'latest_point']);
    expect(match).toMatchObject({ name: PARTICIPANT, identifier: PARTICIPANT, suppresses_alerts: false, group: null, active_alerts: [], earliest_point: null, latest_point: null });

    const set = await update(PARTICIPANT, 'Arm B');
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ updated: 1 });
    expect((await sourceQuery(PARTICIPANT)).body.matches[0].group).toBe('Arm B');
    const { rows } = await server.db.pool.query(`SELECT name FROM source_groups`);
    expect(rows.map((r) => r.name)).toEqual(['Arm B']);
    // the other source is untouched
    expect((await sourceQuery(OTHER)).body.matches[0].group).toBeNull();

    expect((await update(PARTICIPANT, null)).body).toEqual({ updated: 1 });
    expect((await sourceQuery(PARTICIPANT)).body.matches[0].group).toBeNull();
    expect((await update('99999999', 'Arm B')).body).toEqual({ updated: 0 });
  });

  it('filters and orders sources by group (pull_group_memberships reads them all)', async () => {
    await update(OTHER, 'Arm A');
    const all = await pdkPost(server.baseUrl, '/api/data-sources.json', { token, filters: '[]', excludes: pyJson([{ pk: null }]), order_by: pyJson([['-identifier']]) });
    expect(all.body.matches.map((m) => [m.identifier, m.group])).toEqual([[PARTICIPANT, null], [OTHER, 'Arm A']]);
    const armA = await pdkPost(server.baseUrl, '/api/data-sources.json', { token, filters: pyJson([{ group: 'Arm A' }]) });
    expect(armA.body.matches.map((m) => m.identifier)).toEqual([OTHER]);
    const ungrouped = await pdkPost(server.baseUrl, '/api/data-sources.json', { token, filters: pyJson([{ group__isnull: true }]) });
    expect(ungrouped.body.matches.map((m) => m.identifier)).toEqual([PARTICIPANT]);
  });
});
