/**
 * At volume: 100,000 points from 100 sources (uploaded and processed for real), folded by one
 * source-statistics run; then status checks over 10,000 sources. Exactness is asserted; the
 * durations are printed (for docs/monitoring.md), not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { CHROME, HEADLESS, pointAt, runOk } from './support.ts';

const SOURCES = 100;
const PER_SOURCE = 1_000;
const PER_BUNDLE = 5_000;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const seconds = (start: number) => ((performance.now() - start) / 1000).toFixed(2);

describe('monitoring at volume', () => {
  it('folds 100,000 new points in one run, exactly', async () => {
    const now = Date.now();
    const points = [];
    for (let s = 0; s < SOURCES; s++) {
      for (let i = 0; i < PER_SOURCE; i++) {
        // Spread over the last 30 days, three data types, two user agents.
        const created = new Date(now - ((i * 2_591_999_000) / PER_SOURCE + s * 1000));
        points.push(pointAt(`vol-${s}`, created, { generatorId: `vol-type-${i % 3}`, userAgent: i % 50 === 0 ? HEADLESS : CHROME }));
      }
    }
    for (let i = 0; i < points.length; i += PER_BUNDLE) await postGzip(server, points.slice(i, i + PER_BUNDLE));
    let start = performance.now();
    await server.process();
    console.log(`processing ${points.length} points: ${seconds(start)} s`);
    const { rows: [deltas] } = await server.db.pool.query('SELECT count(*)::int AS n FROM source_point_deltas');

    start = performance.now();
    const counts = await runOk(server.db.pool, server.config, sourceStatisticsJob);
    console.log(`source-statistics after ${points.length} points (${deltas.n} delta rows): ${seconds(start)} s`, counts);
    expect(counts).toMatchObject({ deltas: deltas.n, points: SOURCES * PER_SOURCE, sources: SOURCES });
    const { rows: [sums] } = await server.db.pool.query(
      `SELECT (SELECT sum(window_points)::int FROM data_sources) AS window, (SELECT sum(points)::int FROM source_daily_points) AS daily,
              (SELECT sum(points)::int FROM user_agent_sources) AS agents`,
    );
    expect(sums).toEqual({ window: SOURCES * PER_SOURCE, daily: SOURCES * PER_SOURCE, agents: SOURCES * PER_SOURCE });
  });

  it('runs the status checks over 10,000 sources', async () => {
    const pool = server.db.pool;
    // 9,900 more sources, a third of them overdue, a third never uploaded.
    await pool.query(
      `INSERT INTO data_sources (source, first_seen, latest_point_created)
       SELECT 'many-' || i, now(), CASE i % 3 WHEN 0 THEN now() - interval '1 hour' WHEN 1 THEN now() - interval '30 hours' END
       FROM generate_series(1, 9900) AS i`,
    );
    let start = performance.now();
    const opened = await runOk(pool, server.config, statusChecksJob);
    console.log(`status-checks over 10,000 sources, first run: ${seconds(start)} s`, opened);
    expect(opened.sources).toBe(10_000);
    // every vol- source has a headless user agent in the last 7 days, and 2/3 of the many- sources are overdue
    expect(opened.opened).toBe(SOURCES + 6600);
    start = performance.now();
    const again = await runOk(pool, server.config, statusChecksJob);
    console.log(`status-checks over 10,000 sources, second run: ${seconds(start)} s`, again);
    expect(again).toMatchObject({ opened: 0, closed: 0, updated: opened.opened });
  });
});
