/**
 * The data-points query's shortcuts for one participant (src/api/points.repository.ts queryPoints):
 * a `recorded__lte`/`recorded__lt` that cannot exclude anything is left out, and the count of
 * `{"source": X}` is read from data_sources. Every reply is compared with what the plain query
 * (count(*) and the ordered page with every filter) returns on the same points, right after new
 * points are processed (the source-statistics job never runs here), for bounds after, exactly at
 * and just before the participant's newest `recorded`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createServiceToken } from '../../src/api/tokens.repository.ts';
import { pdkPost, pyJson } from '../helpers/pdk-client.ts';
import type { Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();
let token: string;

const PARTICIPANT = '48213077';
const OTHER = '11112222';
const T0 = Date.UTC(2024, 4, 10, 8, 0, 0) / 1000;

function point(source: string, generatorId: string, seconds: number, fields: Record<string, unknown> = {}): Point {
  return {
    ...fields,
    'passive-data-metadata': { source, generator: `${generatorId}: Study Browser Extension/0.39`, 'generator-id': generatorId, timestamp: seconds },
  };
}

async function uploadAndProcess(points: Point[]): Promise<void> {
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payload: JSON.stringify(points) }).toString(),
  });
  expect(response.status).toBe(201);
  await server.process();
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'`;

/** The participant's newest recorded time and the microsecond before, as isoformat() text. */
async function newestRecorded(): Promise<{ newest: string; justBefore: string }> {
  const { rows } = await server.db.pool.query(
    `SELECT to_char(max(recorded) AT TIME ZONE 'UTC', ${ISO}) AS newest,
            to_char((max(recorded) - interval '1 microsecond') AT TIME ZONE 'UTC', ${ISO}) AS "justBefore"
     FROM data_points WHERE source = $1`,
    [PARTICIPANT],
  );
  return rows[0];
}

interface Case {
  name: string;
  filters: Record<string, unknown>[];
  orderBy: string[][];
  /** the plain query's WHERE and ORDER BY over data_points, with the bound as $1 */
  where: string;
  order: string;
  pageSize?: number;
}

const CASES: Case[] = [
  { name: 'count of a participant (no order)', filters: [{ source: PARTICIPANT }], orderBy: [], where: `source = '${PARTICIPANT}'`, order: 'created, id' },
  { name: 'newest since a time', filters: [{ source: PARTICIPANT, created__gt: '2024-05-10T08:00:30+00:00' }], orderBy: [['-created']], where: `source = '${PARTICIPANT}' AND created > '2024-05-10T08:00:30Z'`, order: 'created DESC, id DESC' },
  { name: 'newest of all types', filters: [{ source: PARTICIPANT }], orderBy: [['-created']], where: `source = '${PARTICIPANT}'`, order: 'created DESC, id DESC', pageSize: 2 },
  { name: 'one type, page size 1', filters: [{ generator_identifier: 'pdk-system-status', source: PARTICIPANT }], orderBy: [['-created']], where: `source = '${PARTICIPANT}' AND generator_id = 'pdk-system-status'`, order: 'created DESC, id DESC', pageSize: 1 },
];

/** The API's reply to `c` with `bound` as its recorded filter, and what the plain query gives. */
async function compare(c: Case, lookup: 'recorded__lte' | 'recorded__lt', bound: string) {
  const reply = await pdkPost(server.baseUrl, '/api/data-points.json', {
    token,
    page_size: String(c.pageSize ?? 32),
    page_index: '0',
    filters: pyJson([{ [lookup]: bound }, ...c.filters]),
    excludes: '[]',
    order_by: pyJson(c.orderBy),
  });
  expect(reply.status).toBe(200);
  const operator = lookup === 'recorded__lte' ? '<=' : '<';
  const where = `${c.where} AND recorded ${operator} $1::timestamptz`;
  const counted = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE ${where}`, [bound]);
  const page = await server.db.pool.query(
    `SELECT properties -> 'passive-data-metadata' ->> 'timestamp' AS t FROM data_points WHERE ${where} ORDER BY ${c.order} LIMIT ${c.pageSize ?? 32}`,
    [bound],
  );
  return {
    api: { count: reply.body.count, timestamps: reply.body.matches.map((m) => String(m['passive-data-metadata'].timestamp)) },
    plain: { count: counted.rows[0].n as number, timestamps: page.rows.map((r) => r.t as string) },
  };
}

/** Every case with bounds after, at and just before the newest recorded time; returns the counts seen. */
async function expectPlainAnswers(): Promise<number[]> {
  const { newest, justBefore } = await newestRecorded();
  const counts: number[] = [];
  for (const c of CASES) {
    for (const [lookup, bound] of [['recorded__lte', new Date(Date.now() + 1000).toISOString()], ['recorded__lte', newest], ['recorded__lt', newest], ['recorded__lte', justBefore]] as const) {
      const { api, plain } = await compare(c, lookup, bound);
      expect(api, `${c.name}, ${lookup} ${bound}`).toEqual(plain);
      counts.push(api.count);
    }
  }
  return counts;
}

beforeAll(async () => {
  const created = await createServiceToken(server.db.pool, { name: 'shortcuts', scope: 'read', expiresDays: null, createdBy: 'test' });
  if (!('token' in created)) throw new Error('token not created');
  token = created.token;
});

describe('a participant\'s points, with and without the shortcuts', () => {
  it('answer as the plain query does, after each batch is processed and before any statistics run', async () => {
    // Uploaded newest first, so ids and times run in opposite directions.
    await uploadAndProcess([
      point(PARTICIPANT, 'webmunk-history-visit', T0 + 60, { url: 'https://example.org/b' }),
      point(PARTICIPANT, 'pdk-system-status', T0 + 40, { pending_points: 3 }),
      point(PARTICIPANT, 'webmunk-history-visit', T0 + 20, { url: 'https://example.org/a' }),
      point(PARTICIPANT, 'pdk-system-status', T0, { pending_points: 9 }),
      point(OTHER, 'pdk-system-status', T0 + 50, { pending_points: 1 }),
    ]);
    const first = await expectPlainAnswers();
    // A second batch: new points and one already stored (not counted twice).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await uploadAndProcess([
      point(PARTICIPANT, 'pdk-system-status', T0 + 40, { pending_points: 3 }),
      point(PARTICIPANT, 'webmunk-amazon-order', T0 + 90, { 'order-number': '111-1111111-1111111' }),
      point(PARTICIPANT, 'pdk-system-status', T0 + 100, { pending_points: 0 }),
    ]);
    const second = await expectPlainAnswers();
    // The participant's count with a bound after every point: 4, then 6; before the newest batch: 0, then 4.
    expect([first[0], first[3], second[0], second[3]]).toEqual([4, 0, 6, 4]);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM source_point_deltas');
    expect(rows[0].n).toBeGreaterThan(0); // nothing folded: the counts did not come from the statistics
  });

  it('reads the count of one participant from data_sources, where processing counts its points', async () => {
    // A counter that disagreed with the table would show here: the shortcut answered, not count(*).
    await server.db.pool.query(`UPDATE data_sources SET point_count = point_count + 1000 WHERE source = $1`, [PARTICIPANT]);
    try {
      const { api, plain } = await compare(CASES[0], 'recorded__lte', new Date(Date.now() + 1000).toISOString());
      expect(api.count).toBe(plain.count + 1000);
      // With another filter the table is counted.
      const typed = await compare(CASES[3], 'recorded__lte', new Date(Date.now() + 1000).toISOString());
      expect(typed.api.count).toBe(typed.plain.count);
    } finally {
      await server.db.pool.query(`UPDATE data_sources SET point_count = point_count - 1000 WHERE source = $1`, [PARTICIPANT]);
    }
  });
});
