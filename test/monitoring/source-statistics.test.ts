/**
 * source-statistics: after real uploads and processing, the statistics tables equal what a scan
 * of data_points says (per day in TIME_ZONE, recent buckets, user agents, window, frequency,
 * 14-day strip), stay equal through a late upload, a second run and a reprocess, and the fold is
 * exact whatever the batch size and the order of the delta rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldPointDeltas, sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { CHROME, daysAgo, hoursAgo, HEADLESS, pointAt, rowsOf, runOk } from './support.ts';

const TZ = 'America/New_York';
let server: TestServer;
const run = () => runOk(server.db.pool, server.config, sourceStatisticsJob);
const now = Date.now();
// st-a: points from an hour to 20 days old (all in the 60-day window), two 70 days old (outside).
const aTimes = [hoursAgo(1, now), hoursAgo(2, now), hoursAgo(2.05, now), daysAgo(1, now), daysAgo(3.5, now), daysAgo(10, now), daysAgo(20, now), daysAgo(70, now), daysAgo(70.5, now)];
const inStrip = aTimes.filter((t) => now - t.getTime() <= 10 * 86_400_000).length;
const inWindow = aTimes.filter((t) => now - t.getTime() <= 20 * 86_400_000);
// 02:00 UTC two days ago: still the day before in New York.
const utcDay = new Date(now);
const lateEvening = new Date(Date.UTC(utcDay.getUTCFullYear(), utcDay.getUTCMonth(), utcDay.getUTCDate() - 2, 2, 0));

// What a scan of data_points says ($1 = TIME_ZONE).
const ORACLE = {
  daily: `SELECT source, generator_id, (created AT TIME ZONE $1)::date::text AS day, count(*)::int AS points,
                 min(created) AS first_created, max(created) AS last_created
          FROM data_points GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  agents: `SELECT user_agent, source, count(*)::int AS points, min(created) AS first_seen, max(created) AS last_seen
           FROM data_points WHERE user_agent <> '' GROUP BY 1, 2 ORDER BY 1, 2`,
  created: `SELECT source, date_bin('10 minutes', created, timestamptz '2000-01-01Z') AS bucket, count(*)::int AS points
            FROM data_points WHERE created >= now() - interval '3 days' GROUP BY 1, 2 ORDER BY 1, 2`,
  sources: `SELECT s.source, s.stats_day::text AS stats_day,
              (SELECT count(*)::int FROM data_points p WHERE p.source = s.source AND (p.created AT TIME ZONE $1)::date > s.stats_day - 60) AS window_points,
              (SELECT min(created) FROM data_points p WHERE p.source = s.source AND (p.created AT TIME ZONE $1)::date > s.stats_day - 60) AS window_first_created,
              (SELECT max(created) FROM data_points p WHERE p.source = s.source AND (p.created AT TIME ZONE $1)::date > s.stats_day - 60) AS window_last_created,
              ARRAY(SELECT (SELECT count(*)::int FROM data_points p WHERE p.source = s.source AND (p.created AT TIME ZONE $1)::date = s.stats_day - i)
                    FROM generate_series(13, 0, -1) AS i) AS daily_points
            FROM data_sources s ORDER BY 1`,
};
const STORED = {
  daily: `SELECT source, generator_id, day::text AS day, points::int, first_created, last_created
          FROM source_daily_points WHERE points > 0 ORDER BY 1, 2, 3`,
  agents: `SELECT user_agent, source, points::int, first_seen, last_seen FROM user_agent_sources WHERE points > 0 ORDER BY 1, 2`,
  created: `SELECT source, bucket, points FROM source_recent_points WHERE kind = 'c' AND points > 0 ORDER BY 1, 2`,
  sources: `SELECT source, stats_day::text AS stats_day, window_points::int, window_first_created, window_last_created, daily_points
            FROM data_sources ORDER BY 1`,
};

async function expectMatchesDataPoints(): Promise<void> {
  const pool = server.db.pool;
  expect(await rowsOf(pool, STORED.daily)).toEqual(await rowsOf(pool, ORACLE.daily, [TZ]));
  expect(await rowsOf(pool, STORED.agents)).toEqual(await rowsOf(pool, ORACLE.agents));
  expect(await rowsOf(pool, STORED.created)).toEqual(await rowsOf(pool, ORACLE.created));
  expect(await rowsOf(pool, STORED.sources)).toEqual(await rowsOf(pool, ORACLE.sources, [TZ]));
}

/** Everything the job writes, except when it wrote it. */
async function snapshot() {
  const pool = server.db.pool;
  return {
    daily: await rowsOf(pool, 'SELECT * FROM source_daily_points ORDER BY source, generator_id, day'),
    recent: await rowsOf(pool, `SELECT * FROM source_recent_points WHERE kind = 'c' ORDER BY source, bucket`),
    agents: await rowsOf(pool, 'SELECT * FROM user_agent_sources ORDER BY user_agent, source'),
    sources: await rowsOf(pool, `SELECT source, last_upload_at, window_points, window_first_created, window_last_created, frequency_hz, daily_points, stats_day::text
                                 FROM data_sources ORDER BY source`),
  };
}

async function source(name: string) {
  const { rows } = await server.db.pool.query('SELECT *, stats_day::text AS stats_day FROM data_sources WHERE source = $1', [name]);
  return rows[0];
}

const recordedSum = async () => Number((await server.db.pool.query(`SELECT coalesce(sum(points), 0) AS n FROM source_recent_points WHERE kind = 'r'`)).rows[0].n);

beforeAll(async () => {
  server = await startTestServer({ TIME_ZONE: TZ });
  await postGzip(server, aTimes.map((t) => pointAt('st-a', t)));
  await postGzip(server, [
    pointAt('st-b', hoursAgo(0.5, now), { generatorId: 'webmunk-spider-result', userAgent: HEADLESS }),
    pointAt('st-b', hoursAgo(5, now)),
    pointAt('st-b', daysAgo(2, now), { userAgent: '' }),
    pointAt('st-c', hoursAgo(3, now)),
    pointAt('st-d', lateEvening),
  ]);
  await server.process();
});
afterAll(async () => {
  await server?.stop();
});

describe('source-statistics', () => {
  let first: Record<string, number>;

  it('counts every stored point once: per day, per user agent, per 10-minute bucket and per source', async () => {
    first = await run();
    expect(first).toMatchObject({ points: aTimes.length + 5, removals: 0, batches: 1, sources: 4 });
    await expectMatchesDataPoints();
  });

  it('counts days in TIME_ZONE', async () => {
    const nyDay = new Date(Date.UTC(utcDay.getUTCFullYear(), utcDay.getUTCMonth(), utcDay.getUTCDate() - 3)).toISOString().slice(0, 10);
    expect(await rowsOf(server.db.pool, `SELECT day::text AS day, points::int FROM source_daily_points WHERE source = 'st-d'`)).toEqual([{ day: nyDay, points: 1 }]);
  });

  it('keeps the window, frequency and 14-day strip of each source', async () => {
    const a = await source('st-a');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());
    expect([today, new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(now))]).toContain(a.stats_day);
    expect(a.window_points).toBe(inWindow.length);
    expect(a.window_first_created.getTime()).toBe(daysAgo(20, now).getTime());
    expect(a.window_last_created.getTime()).toBe(hoursAgo(1, now).getTime());
    expect(a.frequency_hz).toBeCloseTo(inWindow.length / ((hoursAgo(1, now).getTime() - daysAgo(20, now).getTime()) / 1000), 12);
    expect(a.daily_points).toHaveLength(14);
    expect(a.daily_points.reduce((x: number, y: number) => x + y, 0)).toBe(inStrip);
    const c = await source('st-c');
    expect(c).toMatchObject({ window_points: 1, frequency_hz: null });
    expect(c.daily_points.reduce((x: number, y: number) => x + y, 0)).toBe(1);
  });

  it('records user agents (not empty ones) and the receipt time of the newest upload', async () => {
    const agents = await rowsOf(server.db.pool, `SELECT user_agent, points::int FROM user_agent_sources WHERE source = 'st-b' ORDER BY user_agent`);
    expect(agents).toEqual([{ user_agent: CHROME, points: 1 }, { user_agent: HEADLESS, points: 1 }]);
    const { rows } = await server.db.pool.query(`SELECT max(received_at) AS at FROM bundles WHERE 'st-b' = ANY (sources)`);
    expect((await source('st-b')).last_upload_at).toEqual(rows[0].at);
  });

  it('counts points by time stored in the recent buckets too', async () => {
    const { rows } = await server.db.pool.query(
      `SELECT (SELECT count(*)::int FROM data_points) AS points,
              (SELECT sum(points)::int FROM source_recent_points WHERE kind = 'r'
                 AND bucket = ANY (ARRAY(SELECT DISTINCT date_bin('10 minutes', recorded, timestamptz '2000-01-01Z') FROM data_points))) AS recorded`,
    );
    expect(rows[0].recorded).toBe(rows[0].points);
  });

  it('changes nothing when run again with nothing new', async () => {
    const before = await snapshot();
    const counts = await run();
    expect(counts).toMatchObject({ deltas: 0, points: 0, sources: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('puts a late upload of old points on the day they were created', async () => {
    const day = (t: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(t);
    const late = daysAgo(5, now);
    const count = async () => (await rowsOf(server.db.pool, `SELECT points::int FROM source_daily_points WHERE source = 'st-a' AND day = $1`, [day(late)]))[0]?.points as number | undefined ?? 0;
    const before = await count();
    const stripBefore = (await source('st-a')).daily_points;
    await postGzip(server, [pointAt('st-a', late), pointAt('st-a', new Date(late.getTime() + 1000))]);
    await server.process();
    expect(await run()).toMatchObject({ points: 2, sources: 1 });
    expect(await count()).toBe(before + 2);
    const strip = (await source('st-a')).daily_points;
    expect(strip.reduce((x: number, y: number) => x + y, 0)).toBe(stripBefore.reduce((x: number, y: number) => x + y, 0) + 2);
    const { rows } = await server.db.pool.query('SELECT max(received_at) AS at FROM bundles');
    expect((await source('st-a')).last_upload_at).toEqual(rows[0].at);
    await expectMatchesDataPoints();
  });

  it('moves on at midnight for silent sources, and gives sources added by hand zeros', async () => {
    await server.db.pool.query(`UPDATE data_sources SET stats_day = stats_day - 1, daily_points = '{9,9,9,9,9,9,9,9,9,9,9,9,9,9}', window_points = 99 WHERE source = 'st-c'`);
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('st-empty', now())`);
    expect(await run()).toMatchObject({ deltas: 0, sources: 2 });
    expect(await source('st-empty')).toMatchObject({ window_points: 0, window_first_created: null, frequency_hz: null, daily_points: Array(14).fill(0) });
    await expectMatchesDataPoints();
  });

  it('leaves the counts unchanged through a reprocess (removals, then the same points again)', async () => {
    const before = await snapshot();
    const recordedBefore = await recordedSum();
    const points = Number((await server.db.pool.query('SELECT count(*) AS n FROM data_points')).rows[0].n);
    expect(await queueReprocess(server.db.pool, {})).toBeGreaterThan(0);
    await server.process();
    const counts = await run();
    expect(counts.removals).toBeGreaterThan(0);
    expect(counts.points).toBe(0);
    const after = await snapshot();
    expect(after.daily.map(({ last_recorded: _, ...rest }) => rest)).toEqual(before.daily.map(({ last_recorded: _, ...rest }) => rest));
    expect(after.recent).toEqual(before.recent);
    expect(after.agents).toEqual(before.agents);
    expect(after.sources).toEqual(before.sources);
    await expectMatchesDataPoints();
    // Buckets by time stored count the reprocessed points again, when they were stored again.
    expect(await recordedSum()).toBe(recordedBefore + points);
  });

  it('folds exactly in batches of one row, even when a removal precedes the points it removes', async () => {
    const pool = server.db.pool;
    const t = hoursAgo(1);
    const row = (points: number) => pool.query(
      `INSERT INTO source_point_deltas (source, generator_id, user_agent, bucket, points, first_created, last_created, received_at)
       VALUES ('st-manual', 'g', 'ua-manual', date_bin('10 minutes', $1::timestamptz, timestamptz '2000-01-01Z'), $2, $1, $1, CASE WHEN $2 > 0 THEN now() END)`,
      [t, points],
    );
    // Physically first: the removal of 5 points whose own delta (next) is not folded yet, then
    // those 5 points stored again. A fold in table order would clamp at 0 and end at 10.
    await row(-5);
    await row(5);
    await row(5);
    await row(2);
    const folded = await foldPointDeltas(pool, TZ, 1);
    expect(folded).toMatchObject({ deltas: 4, removals: 1, points: 7 });
    expect(await rowsOf(pool, `SELECT points::int FROM source_daily_points WHERE source = 'st-manual'`)).toEqual([{ points: 7 }]);
    expect(await rowsOf(pool, `SELECT points::int FROM user_agent_sources WHERE source = 'st-manual'`)).toEqual([{ points: 7 }]);
    expect(await rowsOf(pool, `SELECT points FROM source_recent_points WHERE source = 'st-manual' AND kind = 'c'`)).toEqual([{ points: 7 }]);
    // A removal beyond what was counted stops at zero.
    await row(-9);
    await foldPointDeltas(pool, TZ, 1);
    expect(await rowsOf(pool, `SELECT points::int FROM source_daily_points WHERE source = 'st-manual'`)).toEqual([{ points: 0 }]);
  });

  it('prunes recent buckets older than 3 days', async () => {
    await server.db.pool.query(`INSERT INTO source_recent_points (source, kind, bucket, points) VALUES ('st-a', 'c', now() - interval '4 days', 1), ('st-a', 'r', now() - interval '80 hours', 1)`);
    expect(await run()).toMatchObject({ prunedBuckets: 2 });
    expect(await rowsOf(server.db.pool, `SELECT count(*)::int AS n FROM source_recent_points WHERE bucket < now() - interval '3 days'`)).toEqual([{ n: 0 }]);
  });
});
