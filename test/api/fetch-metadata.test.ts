/**
 * Federation: `POST /data/fetch-metadata.json` as an original PDK server calls it (form fields
 * `identifier` and `request-key`), over real HTTP, on points uploaded and processed through the
 * real path and folded by the source-statistics job. Each key of the reply is checked against the
 * uploaded points; then every refusal, the endpoint switched off, and the server's log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Running } from '../../src/main.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { processUntilEmpty } from '../../src/processing/process-bundles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { CHROME, daysAgo, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const KEY = `fed-${randomBytes(12).toString('hex')}`;
const TZ = 'America/New_York';
const NEWEST_AGENT = 'Webmunk Study Extension/0.3.2 Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/145.0.0.0 Safari/537.36';
const now = Date.now();

// fed-a: visits from 20 days to 2 hours old, one 70 days old (outside the 60-day window); an
// unknown data type (no label in the catalog) an hour old, the newest point, from another browser.
const visits = [daysAgo(20, now), daysAgo(3, now), hoursAgo(30, now), hoursAgo(2, now)];
const oldVisit = daysAgo(70, now);
const unknownType = [daysAgo(5, now), hoursAgo(1, now)];
// fed-b: one point.
const single = hoursAgo(5, now);

let db: TestDatabase;
let running: Running;
let baseUrl: string;
let dataDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-test-'));
  const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', DB_POOL_SIZE: '4', DATA_DIR: dataDir, TIME_ZONE: TZ, PDK_REQUEST_KEY: KEY });
  // everything the server logs, at the most detailed level, to look for the key in
  const log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  running = await startServer(config, log, { web: true, worker: false });
  baseUrl = `http://127.0.0.1:${running.port}`;
  const uploader = { baseUrl, db } as unknown as TestServer;
  const processAll = () => processUntilEmpty({ pool: running.db.pool, config, log });
  // three uploads processed one after the other: the two types of fed-a arrive at different times
  await postGzip(uploader, [...visits, oldVisit].map((t) => pointAt('fed-a', t)));
  await processAll();
  await postGzip(uploader, unknownType.map((t, i) => pointAt('fed-a', t, { generatorId: 'fed-test-type', userAgent: i === 1 ? NEWEST_AGENT : CHROME })));
  await postGzip(uploader, [pointAt('fed-b', single)]);
  await processAll();
  await runOk(running.db.pool, config, sourceStatisticsJob);
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function fetchMetadata(fields: Record<string, string>, options: { url?: string; headers?: Record<string, string> } = {}) {
  return fetch(`${options.url ?? baseUrl}/data/fetch-metadata.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The reply's JSON, after checking it is 200 application/json indented by 2 as the original's. */
async function okJson(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const text = await response.text();
  expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
  return JSON.parse(text);
}

const seconds = (time: Date) => Math.floor(time.getTime() / 1000);
const frequency = (times: Date[]) => times.length / ((Math.max(...times.map(Number)) - Math.min(...times.map(Number))) / 1000);

/** What data_points says about a source: the newest point, the newest `recorded`, per type. */
async function stored(source: string) {
  const pool = running.db.pool;
  const { rows: [newest] } = await pool.query('SELECT id::int FROM data_points WHERE source = $1 ORDER BY created DESC LIMIT 1', [source]);
  const { rows: [recorded] } = await pool.query('SELECT max(recorded) AS at FROM data_points WHERE source = $1', [source]);
  const { rows: byType } = await pool.query(
    `SELECT generator_id, max(recorded) AS last_recorded FROM data_points
     WHERE source = $1 AND created > now() - interval '60 days' GROUP BY 1`,
    [source],
  );
  return { newestId: newest.id as number, lastRecorded: recorded.at as Date, typeRecorded: Object.fromEntries(byType.map((r) => [r.generator_id, r.last_recorded as Date])) };
}

describe('fetch-metadata.json with the right key', () => {
  it("answers a source's performance metadata with the original's keys, types and units", async () => {
    const metadata = await okJson(await fetchMetadata({ identifier: 'fed-a', 'request-key': KEY }));
    const truth = await stored('fed-a');
    const inWindow = [...visits, ...unknownType];
    expect(metadata).toEqual({
      latest_point: truth.newestId,
      user_agent: NEWEST_AGENT,
      latest_point_created: seconds(unknownType[1]),
      latest_point_recorded: null,
      latest_point_recorded_time: seconds(truth.lastRecorded),
      point_count: inWindow.length,
      point_frequency: expect.closeTo(frequency(inWindow), 12),
      generator_statistics: [
        {
          identifier: 'fed-test-type',
          source: 'fed-a',
          label: 'fed-test-type',
          points_count: 2,
          last_recorded: seconds(truth.typeRecorded['fed-test-type']),
          first_created: seconds(unknownType[0]),
          last_created: seconds(unknownType[1]),
          frequency: expect.closeTo(frequency(unknownType), 12),
        },
        {
          identifier: 'webmunk-history-visit',
          source: 'fed-a',
          label: 'History: Visits (webmunk)',
          points_count: visits.length,
          last_recorded: seconds(truth.typeRecorded['webmunk-history-visit']),
          first_created: seconds(visits[0]),
          last_created: seconds(visits[3]),
          frequency: expect.closeTo(frequency(visits), 12),
        },
      ],
    });
    // the two types arrived in different batches, so the check above tells them apart
    expect(truth.typeRecorded['fed-test-type'].getTime()).toBeGreaterThan(truth.typeRecorded['webmunk-history-visit'].getTime());
    expect(Number.isInteger(metadata.latest_point_created) && Number.isInteger(metadata.latest_point_recorded_time)).toBe(true);
  });

  it('answers a frequency of 0 for a single point, and takes the key as a bearer token too', async () => {
    const metadata = await okJson(await fetchMetadata({ identifier: 'fed-b' }, { headers: { authorization: `Bearer ${KEY}` } }));
    const truth = await stored('fed-b');
    expect(metadata).toEqual({
      latest_point: truth.newestId,
      user_agent: CHROME,
      latest_point_created: seconds(single),
      latest_point_recorded: null,
      latest_point_recorded_time: seconds(truth.lastRecorded),
      point_count: 1,
      point_frequency: 0,
      generator_statistics: [{
        identifier: 'webmunk-history-visit', source: 'fed-b', label: 'History: Visits (webmunk)', points_count: 1,
        last_recorded: seconds(truth.typeRecorded['webmunk-history-visit']), first_created: seconds(single), last_created: seconds(single), frequency: 0,
      }],
    });
  });

  it('answers {} for an unknown or removed source, as the original', async () => {
    expect(await okJson(await fetchMetadata({ identifier: 'fed-nobody', 'request-key': KEY }))).toEqual({});
    expect(await okJson(await fetchMetadata({ identifier: 'fed-\0a', 'request-key': KEY }))).toEqual({});
    await running.db.pool.query(`UPDATE data_sources SET removed_at = now() WHERE source = 'fed-b'`);
    try {
      expect(await okJson(await fetchMetadata({ identifier: 'fed-b', 'request-key': KEY }))).toEqual({});
    } finally {
      await running.db.pool.query(`UPDATE data_sources SET removed_at = NULL WHERE source = 'fed-b'`);
    }
  });

  it('answers only the counts for a source without points (added on the dashboard), as the original', async () => {
    await running.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('fed-empty', now())`);
    expect(await okJson(await fetchMetadata({ identifier: 'fed-empty', 'request-key': KEY }))).toEqual({ point_count: 0, point_frequency: 0, generator_statistics: [] });
  });

  it('refuses a request without an identifier with a JSON 400', async () => {
    const response = await fetchMetadata({ 'request-key': KEY });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'DCS_ERR_BAD_REQUEST', message: expect.stringMatching(/identifier/) });
  });
});

describe('fetch-metadata.json refuses', () => {
  it('a wrong, empty or missing key with a JSON 403 that shows nothing of the source', async () => {
    const attempts = [
      fetchMetadata({ identifier: 'fed-a', 'request-key': `${KEY}x` }),
      fetchMetadata({ identifier: 'fed-a', 'request-key': KEY.slice(0, -1) }),
      fetchMetadata({ identifier: 'fed-a', 'request-key': '' }),
      fetchMetadata({ identifier: 'fed-a' }),
      fetchMetadata({ identifier: 'fed-a', 'request-key': KEY }, { headers: { authorization: 'Bearer wrong' } }),
      fetchMetadata({ identifier: 'fed-nobody', 'request-key': 'wrong' }),
      // the key in a JSON body is not read: callers post a form
      fetch(`${baseUrl}/data/fetch-metadata.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identifier: 'fed-a', 'request-key': KEY }) }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await response.json();
      expect(body).toEqual({ code: 'DCS_ERR_FORBIDDEN', message: expect.stringMatching(/request key/) });
    }
  });

  it('GET and other methods with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const response = await fetch(`${baseUrl}/data/fetch-metadata.json?identifier=fed-a&request-key=${KEY}`, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      if (method !== 'HEAD') expect((await response.json()).code).toBe('DCS_ERR_METHOD_NOT_ALLOWED');
    }
  });

  it('a body larger than 16 KB with a JSON 413', async () => {
    const response = await fetchMetadata({ identifier: 'x'.repeat(20_000), 'request-key': KEY });
    expect(response.status).toBe(413);
    expect((await response.json()).code).toBe('DCS_ERR_BODY_TOO_LARGE');
  });
});

describe('fetch-metadata.json without PDK_REQUEST_KEY', () => {
  for (const [setting, env] of [['unset', {}], ['empty', { PDK_REQUEST_KEY: '' }]] as const) {
    it(`answers {} to everyone when the setting is ${setting} (off, as the original)`, async () => {
      const off = await startTestServer(env, { db });
      try {
        for (const key of [KEY, '', 'anything']) {
          expect(await okJson(await fetchMetadata({ identifier: 'fed-a', 'request-key': key }, { url: off.baseUrl }))).toEqual({});
        }
        expect(await okJson(await fetchMetadata({ identifier: 'fed-a' }, { url: off.baseUrl, headers: { authorization: 'Bearer ' } }))).toEqual({});
      } finally {
        await off.stop();
      }
    });
  }
});

describe("the server's log", () => {
  it('never holds the key', async () => {
    await fetchMetadata({ identifier: 'fed-a', 'request-key': KEY });
    await fetchMetadata({ identifier: 'fed-a', 'request-key': `${KEY}-wrong` });
    await fetchMetadata({ identifier: 'fed-a' }, { headers: { authorization: `Bearer ${KEY}` } });
    await fetchMetadata({ identifier: 'x'.repeat(20_000), 'request-key': KEY });
    await fetch(`${baseUrl}/data/fetch-metadata.json?request-key=${KEY}`);
    // the capture works: the server logged its start, and the refused key
    expect(logLines.join('')).toMatch(/listening on/);
    expect(logLines.join('')).toMatch(/fetch-metadata.json refused: wrong or missing request key/);
    expect(logLines.join('')).not.toContain(KEY);
  });
});
