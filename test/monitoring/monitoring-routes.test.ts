/**
 * GET /metrics (values from the database at scrape time, METRICS_TOKEN) and GET /healthz, on the
 * real server; /healthz also on a bare Fastify whose pool cannot reach a database.
 */
import net from 'node:net';
import Fastify from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { alertDigestJob } from '../../src/monitoring/alert-digest.job.ts';
import { registerMonitoringRoutes } from '../../src/monitoring/monitoring.routes.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { hoursAgo, pointAt, runOk } from './support.ts';

let server: TestServer;
let guarded: TestServer;
const TOKEN = 'metrics-secret-1';

beforeAll(async () => {
  server = await startTestServer();
  // A second server on the same database, with METRICS_TOKEN.
  guarded = await startTestServer({ METRICS_TOKEN: TOKEN }, { db: server.db });
});
afterAll(async () => {
  await guarded?.stop();
  await server?.stop();
});

/** The samples of a Prometheus text exposition: `name{labels}` -> value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('reports bundles, points, the queue and the jobs, read from the database when scraped', async () => {
    await postGzip(server, [pointAt('m-a', hoursAgo(1)), pointAt('m-a', hoursAgo(2)), pointAt('m-b', hoursAgo(1))]);
    await postGzip(server, [pointAt('m-b', hoursAgo(3)), pointAt('m-b', hoursAgo(4))]);
    await server.process();
    await postGzip(server, [pointAt('m-c', hoursAgo(1))]);
    const log = createLogger('silent');
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    // no SMTP_URL: a failed run
    const failed = await runJob({ pool: server.db.pool, config: loadConfig({ DATABASE_URL: server.db.url, ALERT_DIGEST_RECIPIENTS: 'a@example.org' }), log }, alertDigestJob, 'cli');
    expect(failed.outcome).toBe('failed');

    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE dcs_bundles_received_total counter');
    expect(text).toContain('# TYPE dcs_bundles_pending gauge');
    const m = parseMetrics(text);
    expect(m.get('dcs_bundles_received_total')).toBe(3);
    expect(m.get('dcs_bundles_processed_total')).toBe(2);
    expect(m.get('dcs_bundles_errored_total')).toBe(0);
    expect(m.get('dcs_bundles_pending')).toBe(1);
    expect(m.get('dcs_points_stored_total')).toBe(5);
    expect(m.get('dcs_processing_lag_seconds')).toBeGreaterThan(0);
    expect(m.get('dcs_database_up')).toBe(1);
    expect(m.get('dcs_spooled_uploads')).toBe(0);
    expect(m.get('dcs_spool_bytes')).toBe(0);

    const { rows: [stats] } = await server.db.pool.query(
      `SELECT t.seconds, extract(epoch FROM r.finished_at - r.started_at)::float8 AS last, extract(epoch FROM r.finished_at)::float8 AS finished
       FROM job_totals t JOIN job_runs r ON r.job = t.job WHERE t.job = 'source-statistics'`,
    );
    expect(m.get('dcs_job_runs_total{job="source-statistics"}')).toBe(1);
    expect(m.get('dcs_job_failures_total{job="source-statistics"}')).toBe(0);
    expect(m.get('dcs_job_duration_seconds_total{job="source-statistics"}')).toBeCloseTo(stats.seconds, 6);
    expect(m.get('dcs_job_last_duration_seconds{job="source-statistics"}')).toBeCloseTo(stats.last, 6);
    expect(m.get('dcs_job_last_success_timestamp_seconds{job="source-statistics"}')).toBeCloseTo(stats.finished, 3);
    expect(m.get('dcs_job_runs_total{job="alert-digest"}')).toBe(1);
    expect(m.get('dcs_job_failures_total{job="alert-digest"}')).toBe(1);
    expect(m.has('dcs_job_last_duration_seconds{job="alert-digest"}')).toBe(true);
    // never succeeded / never ran: no success time, but the counters exist from the start
    expect(m.has('dcs_job_last_success_timestamp_seconds{job="alert-digest"}')).toBe(false);
    expect(m.get('dcs_job_runs_total{job="server-health"}')).toBe(0);
    expect(m.has('dcs_job_last_duration_seconds{job="server-health"}')).toBe(false);

    // Scraped again after more work: the new values.
    await server.process();
    const again = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
    expect(again.get('dcs_bundles_pending')).toBe(0);
    expect(again.get('dcs_bundles_processed_total')).toBe(3);
    expect(again.get('dcs_points_stored_total')).toBe(6);
    expect(again.get('dcs_processing_lag_seconds')).toBe(0);
  });

  it('needs the bearer token when METRICS_TOKEN is set', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Record<string, string>[]) {
      const response = await fetch(`${guarded.baseUrl}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ message: expect.stringContaining('METRICS_TOKEN'), code: 'DCS_ERR_UNAUTHORIZED' });
    }
    const ok = await fetch(`${guarded.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(parseMetrics(await ok.text()).get('dcs_bundles_received_total')).toBe(3);
  });
});

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} when the database answers', async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('{"status":"ok"}');
    // the one probe: the undocumented /health that answered beside it is gone
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(404);
  });

  async function probeWith(pool: pg.Pool): Promise<{ status: number; body: string }> {
    const app = Fastify();
    registerMonitoringRoutes(app, { pool, config: loadConfig({}), log: createLogger('silent') });
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      return { status: response.statusCode, body: response.body };
    } finally {
      await app.close();
    }
  }

  it('answers 503 {"status":"unavailable"} when the database refuses connections', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const pool = new pg.Pool({ connectionString: `postgres://x:y@127.0.0.1:${port}/none` });
    try {
      expect(await probeWith(pool)).toEqual({ status: 503, body: '{"status":"unavailable"}' });
    } finally {
      await pool.end();
    }
  });

  it('answers 503 instead of waiting when the database does not answer at all', async () => {
    // Accepts connections and never says a word, as a hung server or a black-holed route.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const pool = new pg.Pool({ connectionString: `postgres://x:y@127.0.0.1:${port}/none` });
    pool.on('error', () => undefined);
    try {
      expect(await probeWith(pool)).toEqual({ status: 503, body: '{"status":"unavailable"}' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await pool.end();
    }
  });
});
