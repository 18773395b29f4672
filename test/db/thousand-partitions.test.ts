/**
 * T2, its plan half (issue 22 §5, scale-out.md §4 item 3): data_points with 1,000 monthly
 * partitions (83 years and 4 months, from 1944 to 12 months ahead; 30 times the 36 months a
 * three-year study keeps), points in five of them. For every hot query (hot-queries.ts): the
 * partitions it reads stay bounded where pruning applies (at most the months its sample names,
 * never more than 2), and planning stays below a ceiling of 2 s. The ceiling is against
 * pathological planning (a planner that would take seconds per statement with many partitions),
 * not a speed test: the figures are printed.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { monthPartitionName, monthStart, MONTHS_AHEAD } from '../../src/db/partitions.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { hotQueries, type HotSample } from './hot-queries.ts';
import { explain, leafPartitions, seedSample, type Leaf } from './partition-plans.ts';

const PARTITIONS = 1_000;
/** At most this many partitions read by a query that prunes. */
const PRUNED_BOUND = 2;
/** Against pathological planning; the worst seen was 0.83 s, at a load average of 6.6 on 2 cores. */
const PLANNING_CEILING_MS = 2_000;

let db: TestDatabase;
let client: pg.PoolClient;
let leaves: Map<string, Leaf>;
let sample: HotSample;

beforeAll(async () => {
  db = await createTestDatabase();
  client = await db.pool.connect();
  // The months the migrations made (all empty here) give way to 1,000 ending where they ended;
  // DEFAULT stays. Made 50 to a transaction: each holds a lock on every table and index it made.
  const { rows: made } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'data_points'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'`,
  );
  for (const { name } of made) await client.query(`DROP TABLE ${name}`);
  const end = monthStart(new Date(), MONTHS_AHEAD + 1);
  for (let first = PARTITIONS; first > 0; first -= 50) {
    const statements: string[] = [];
    for (let i = first; i > Math.max(first - 50, 0); i--) {
      const month = monthStart(end, -i);
      statements.push(`CREATE TABLE ${monthPartitionName('data_points', month)} PARTITION OF data_points
        FOR VALUES FROM ('${month.toISOString()}') TO ('${monthStart(month, 1).toISOString()}')`);
    }
    await client.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
  }
  leaves = await leafPartitions(client, 'data_points');
  const now = new Date();
  sample = await seedSample(client, [new Date('1950-06-01T00:00:00Z'), monthStart(now, -30), monthStart(now, -3), monthStart(now, -2), monthStart(now, -1)]);
}, 300_000);

afterAll(async () => {
  client?.release();
  await db?.drop();
});

describe(`data_points with ${PARTITIONS.toLocaleString('en-US')} monthly partitions`, () => {
  it('has them, and DEFAULT', () => {
    expect(leaves.size).toBe(PARTITIONS + 1);
  });

  it('plans every hot query in under 2 s, and those that prune read at most 2 partitions', async () => {
    const quote = (text: string) => client.escapeLiteral(text);
    const lines: string[] = [];
    for (const query of hotQueries(sample, quote)) {
      // twice: the first plan in a connection also loads the partitions' catalog entries; a
      // server's pooled connections plan with them loaded
      const first = await explain(client, query.sql, query.params, leaves, 'data_points', { indexPlans: false });
      const plan = await explain(client, query.sql, query.params, leaves, 'data_points', { indexPlans: false });
      lines.push(`${query.name}: planning ${plan.planningMs.toFixed(1)} ms (${first.planningMs.toFixed(1)} ms the first time), execution ${plan.executionMs.toFixed(1)} ms; `
        + `${plan.present.size} partitions in the plan, ${plan.subplansRemoved} removed at start-up, ${plan.read.size} read`
        + `${query.deleteMonths !== undefined ? `, ${plan.deleted.size} by its DELETE` : ''}`);
      expect(first.planningMs, query.name).toBeLessThan(PLANNING_CEILING_MS);
      expect(plan.planningMs, query.name).toBeLessThan(PLANNING_CEILING_MS);
      expect(plan.read.size, query.name).toBeGreaterThan(0);
      if (query.maxMonths !== null) {
        expect(plan.read.size, query.name).toBeLessThanOrEqual(Math.min(query.maxMonths, PRUNED_BOUND));
      }
      if (query.deleteMonths !== undefined) {
        expect(plan.deleted.size, query.name).toBeGreaterThan(0);
        expect(plan.deleted.size, query.name).toBeLessThanOrEqual(Math.min(query.deleteMonths, PRUNED_BOUND));
      }
    }
    // Printed for docs/scaling.md, not asserted beyond the bounds above (no timed tests).
    console.log(`${lines.join('\n')}\n(load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores)`);
  }, 300_000); // each query planned and run twice over 1,000 partitions: over a minute on a loaded machine
});
