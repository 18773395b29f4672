/** Helpers of the monitoring tests: points with chosen times, job runs, small readers. */
import { expect } from 'vitest';
import type { Config } from '../../src/config.ts';
import type { Pool } from '../../src/db/database.ts';
import type { JobCounts, JobDefinition } from '../../src/job-contract.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { createLogger } from '../../src/log.ts';
import { samples, type Point } from '../helpers/samples.ts';

export const CHROME = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36';
export const HEADLESS = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/144.0.0.0 Safari/537.36';

let serial = 0;

/**
 * A real-format point (a webmunk-history-visit, sample 21) of `source` created at `created`, from
 * `userAgent` (empty: a generator with nothing after its colon, so no user agent).
 */
export function pointAt(source: string, created: Date, options: { generatorId?: string; userAgent?: string; body?: Record<string, unknown> } = {}): Point {
  const [point] = samples(21);
  const generatorId = options.generatorId ?? 'webmunk-history-visit';
  const meta = point['passive-data-metadata']!;
  meta.source = source;
  meta['generator-id'] = generatorId;
  meta.generator = `${generatorId}: ${options.userAgent ?? CHROME}`;
  meta.timestamp = created.getTime() / 1000;
  point.date = created.getTime();
  // Distinct content, so no two test points are ever the same point.
  point.visit_id = `test-${++serial}`;
  Object.assign(point, options.body);
  return point;
}

export const hoursAgo = (hours: number, from = Date.now()) => new Date(from - hours * 3_600_000);
export const daysAgo = (days: number, from = Date.now()) => hoursAgo(days * 24, from);

/** Runs `job` as `dcs run-job` does and expects it to succeed; returns its counts. */
export async function runOk(pool: Pool, config: Config, job: JobDefinition): Promise<JobCounts> {
  const result = await runJob({ pool, config, log: createLogger('silent') }, job, 'cli');
  if (result.outcome !== 'succeeded') throw result.outcome === 'failed' ? result.error : new Error(`job ${job.name} busy`);
  return result.counts;
}

/** Rows of a query, with Dates as ISO strings, for comparisons. */
export async function rowsOf(pool: Pool, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query(sql, params);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
}

/** Inserts data_sources rows directly (for checks that need no points). */
export async function insertSource(pool: Pool, source: string, values: { latestCreated?: Date | null; groupId?: number; suppress?: boolean } = {}): Promise<void> {
  await pool.query(
    `INSERT INTO data_sources (source, first_seen, latest_point_created, group_id, suppress_alerts) VALUES ($1, now(), $2, $3, $4)
     ON CONFLICT (source) DO UPDATE SET latest_point_created = excluded.latest_point_created, group_id = excluded.group_id, suppress_alerts = excluded.suppress_alerts`,
    [source, values.latestCreated ?? null, values.groupId ?? null, values.suppress ?? false],
  );
}

export interface AlertRow {
  id: number;
  source: string;
  check_id: string;
  name: string;
  level: string;
  details: { message: string } & Record<string, unknown>;
  created: Date;
  updated: Date;
  active: boolean;
}

export async function alertsOf(pool: Pool, source: string, checkId?: string): Promise<AlertRow[]> {
  const { rows } = await pool.query<AlertRow>(
    'SELECT * FROM alerts WHERE source = $1 AND ($2::text IS NULL OR check_id = $2) ORDER BY id',
    [source, checkId ?? null],
  );
  return rows;
}

export async function activeAlert(pool: Pool, source: string, checkId: string): Promise<AlertRow | undefined> {
  const active = (await alertsOf(pool, source, checkId)).filter((a) => a.active);
  expect(active.length).toBeLessThanOrEqual(1);
  return active[0];
}
