/**
 * T5 (issue 22 §3, scale-out.md §4 item 4): Citus's rules for a table distributed by `source`,
 * checked on plain PostgreSQL. A scratch database built by the migrations gets an extra
 * `PARTITION BY HASH (source)` level: each month of data_points split into 8 hash partitions, and
 * the other tables keyed by points (data_point_files, amazon_harvested_points, harvest_queue)
 * split by source. Then:
 *  - the schema's own unique keys are created on them: PostgreSQL, like Citus, refuses a unique
 *    key that lacks the column the rows are spread by;
 *  - every source-keyed hot query (hot-queries.ts) reads one hash partition in each month it
 *    reads, that of its source: on Citus, one shard.
 * It cannot catch Citus's SQL restrictions (multi-shard FOR UPDATE, LATERAL ... LIMIT, recursive
 * CTEs): docs/scaling.md lists them for the spike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { hotQueries, type HotSample } from './hot-queries.ts';
import { byMonth, explain, leafPartitions, seedSample, type Leaf } from './partition-plans.ts';

const MODULUS = 8;
/** Three months of points, and a DEFAULT partition for the rest. */
const MONTHS = [new Date('2025-01-01T00:00:00Z'), new Date('2025-02-01T00:00:00Z'), new Date('2025-03-01T00:00:00Z')];
/** Tables keyed by points, and the column of their source. */
const BY_SOURCE = [
  { table: 'data_point_files', column: 'point_source' },
  { table: 'amazon_harvested_points', column: 'source' },
  { table: 'harvest_queue', column: 'source' },
];

let db: TestDatabase;
let client: pg.PoolClient;
let leaves: Map<string, Leaf>;
let sample: HotSample;
/** The hash partition of the sample's source. */
let sampleRemainder: number;
const keys: string[] = [];

/**
 * The indexes and the unique, primary and foreign keys of `from`, made on `to` (names suffixed
 * `_h`, the old ones being still there); each unique definition is kept in `keys`.
 */
async function copyKeysAndIndexes(from: string, to: string): Promise<void> {
  const { rows: indexes } = await client.query<{ def: string }>(
    `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
     WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [from],
  );
  for (const { def } of indexes) {
    const made = def.replace(/^CREATE (UNIQUE )?INDEX (\w+) ON (ONLY )?(public\.)?\w+ /, (_, unique, name) => `CREATE ${unique ?? ''}INDEX ${name}_h ON ${to} `);
    if (made === def) throw new Error(`index definition not understood: ${def}`);
    await client.query(made);
    if (/^CREATE UNIQUE/.test(def)) keys.push(made);
  }
  const { rows: constraints } = await client.query<{ name: string; def: string; type: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def, contype AS type FROM pg_constraint
     WHERE conrelid = $1::regclass AND contype IN ('u', 'p', 'f') ORDER BY contype DESC`,
    [from],
  );
  for (const c of constraints) {
    const made = `ALTER TABLE ${to} ADD CONSTRAINT ${c.name}_h ${c.def}`;
    await client.query(made);
    if (c.type !== 'f') keys.push(made);
  }
}

/** Replaces `table` by `rebuilt` (made and keyed beforehand), under the old name. */
async function replace(table: string, rebuilt: string): Promise<void> {
  await client.query(`DROP TABLE ${table}`);
  await client.query(`ALTER TABLE ${rebuilt} RENAME TO ${table}`);
}

async function hashPartitions(parent: string): Promise<void> {
  for (let r = 0; r < MODULUS; r++) {
    await client.query(`CREATE TABLE ${parent}_r${r} PARTITION OF ${parent} FOR VALUES WITH (MODULUS ${MODULUS}, REMAINDER ${r})`);
  }
}

const LIKE = 'INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED';

beforeAll(async () => {
  db = await createTestDatabase();
  client = await db.pool.connect();
  // data_points: by month of created, then by hash of source.
  await client.query(`CREATE TABLE data_points_hashed (LIKE data_points ${LIKE}) PARTITION BY RANGE (created)`);
  for (const [i, month] of MONTHS.entries()) {
    const name = `data_points_h_${month.toISOString().slice(0, 7).replace('-', '_')}`;
    const end = i + 1 < MONTHS.length ? MONTHS[i + 1] : new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
    await client.query(`CREATE TABLE ${name} PARTITION OF data_points_hashed FOR VALUES FROM ('${month.toISOString()}') TO ('${end.toISOString()}') PARTITION BY HASH (source)`);
    await hashPartitions(name);
  }
  await client.query(`CREATE TABLE data_points_h_default PARTITION OF data_points_hashed DEFAULT PARTITION BY HASH (source)`);
  await hashPartitions('data_points_h_default');
  await copyKeysAndIndexes('data_points', 'data_points_hashed');
  await replace('data_points', 'data_points_hashed');
  for (const { table, column } of BY_SOURCE) {
    await client.query(`CREATE TABLE ${table}_hashed (LIKE ${table} ${LIKE}) PARTITION BY HASH (${column})`);
    await hashPartitions(`${table}_hashed`);
    await copyKeysAndIndexes(table, `${table}_hashed`);
    await replace(table, `${table}_hashed`);
  }
  leaves = await leafPartitions(client, 'data_points');
  sample = await seedSample(client, MONTHS);
  const { rows } = await client.query<{ leaf: string }>('SELECT tableoid::regclass::text AS leaf FROM data_points WHERE source = $1 LIMIT 1', [sample.source]);
  sampleRemainder = leaves.get(rows[0].leaf)!.remainder!;
}, 120_000);

afterAll(async () => {
  client?.release();
  await db?.drop();
});

describe('the schema with data_points and the tables keyed by points split by hash of source', () => {
  it('takes every unique key of the schema (each includes source)', () => {
    // data_points_identity, and a primary key on each of the other tables
    expect(keys.filter((k) => k.includes('data_points_hashed')).length).toBeGreaterThanOrEqual(1);
    for (const { table } of BY_SOURCE) expect(keys.some((k) => k.includes(`${table}_hashed`)), table).toBe(true);
    expect([...leaves.values()].filter((l) => l.remainder !== null)).toHaveLength((MONTHS.length + 1) * MODULUS);
  });

  it('refuses a unique key without source, as Citus does', async () => {
    await expect(client.query('CREATE UNIQUE INDEX data_points_without_source ON data_points (created, content_digest)'))
      .rejects.toThrow(/must include all partitioning columns/);
  });

  it('reads one hash partition per month read, that of the source, in each source-keyed hot query', async () => {
    const quote = (text: string) => client.escapeLiteral(text);
    for (const query of hotQueries(sample, quote)) {
      const plan = await explain(client, query.sql, query.params, leaves);
      const months = byMonth(plan.read, leaves);
      console.log(`${query.name}: ${plan.read.size} of ${leaves.size} partitions read, in ${months.size} months (${plan.present.size} in the plan)`);
      if (!query.bySource) continue;
      expect(plan.read.size, query.name).toBeGreaterThan(0);
      for (const [month, read] of months) {
        expect(read.map((l) => l.remainder), `${query.name}: ${month}`).toEqual([sampleRemainder]);
      }
      if (query.maxMonths !== null) expect(months.size, query.name).toBeLessThanOrEqual(query.maxMonths);
      if (query.deleteMonths !== undefined) {
        const deleted = byMonth(plan.deleted, leaves);
        expect(deleted.size, query.name).toBeGreaterThan(0);
        expect(deleted.size, query.name).toBeLessThanOrEqual(query.deleteMonths);
        for (const read of deleted.values()) expect(read.map((l) => l.remainder), query.name).toEqual([sampleRemainder]);
      }
    }
  });
});
