/**
 * What the partition tests read from a query's plan, and the points they seed for the hot
 * queries' samples (hot-queries.ts). A query is run under EXPLAIN (ANALYZE, SUMMARY) in a
 * transaction rolled back after (the reprocess DELETE included), so both the partitions pruned
 * when planning (absent from the plan) and those pruned at run time (in the plan, never executed)
 * are told apart from those it read.
 */
import type pg from 'pg';
import type { HotSample } from './hot-queries.ts';

/** A leaf partition: the month partition it belongs to, and its hash remainder (null: no hash level). */
export interface Leaf {
  month: string;
  remainder: number | null;
}

export interface PlanFigures {
  planningMs: number;
  executionMs: number;
  /** leaf partitions with a scan in the plan */
  present: Set<string>;
  /** those the execution read (pruned at run time: in the plan, never executed) */
  read: Set<string>;
  /** read by the scan that feeds a DELETE from the table */
  deleted: Set<string>;
  /** "Subplans Removed" (pruned at executor start-up), summed */
  subplansRemoved: number;
}

/** The leaf partitions of `table`, by name. */
export async function leafPartitions(db: pg.ClientBase, table: string): Promise<Map<string, Leaf>> {
  const { rows } = await db.query<{ name: string; parent: string; bound: string }>(
    `SELECT c.relname AS name, p.relname AS parent, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_partition_tree($1::regclass) t JOIN pg_class c ON c.oid = t.relid JOIN pg_class p ON p.oid = t.parentrelid
     WHERE t.isleaf`,
    [table],
  );
  return new Map(rows.map((r) => {
    const remainder = /remainder (\d+)/.exec(r.bound);
    return [r.name, remainder ? { month: r.parent, remainder: Number(remainder[1]) } : { month: r.name, remainder: null }];
  }));
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Operation?: string;
  'Actual Loops'?: number;
  'Subplans Removed'?: number;
  Plans?: PlanNode[];
}

/**
 * The plan and its figures. On the few thousand rows the tests seed, whole scans of every
 * partition cost the planner less than one index lookup per partition; at the sizes partitions
 * are for (millions of rows each) the lookups win. The settings leave the planner the plan it
 * makes at those sizes, and the question here is which partitions such a plan reads. (The exports
 * run with hash and merge joins off anyway: point-query.ts.)
 */
export async function explain(
  client: pg.ClientBase, sql: string, params: unknown[], leaves: ReadonlyMap<string, Leaf>, table = 'data_points', { indexPlans = true } = {},
): Promise<PlanFigures> {
  await client.query('BEGIN');
  try {
    // (Not with 1,000 partitions: PostgreSQL 15 then took minutes to plan and run the export's
    // read-back, against 0.4 s and 29 ms with the defaults. Pruning, the question there, does not
    // depend on the scan chosen.)
    if (indexPlans) await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off');
    const { rows } = await client.query(`EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) ${sql}`, params);
    const [result] = rows[0]['QUERY PLAN'] as [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }];
    const figures: PlanFigures = {
      planningMs: result['Planning Time'], executionMs: result['Execution Time'],
      present: new Set(), read: new Set(), deleted: new Set(), subplansRemoved: 0,
    };
    const walk = (node: PlanNode, deleting: boolean) => {
      figures.subplansRemoved += node['Subplans Removed'] ?? 0;
      const name = node['Relation Name'];
      if (name !== undefined && leaves.has(name) && node['Node Type'] !== 'ModifyTable') {
        figures.present.add(name);
        if ((node['Actual Loops'] ?? 0) > 0) {
          figures.read.add(name);
          if (deleting) figures.deleted.add(name);
        }
      }
      const feedsDelete = node['Node Type'] === 'ModifyTable' && node.Operation === 'Delete' && name === table;
      for (const child of node.Plans ?? []) walk(child, deleting || feedsDelete);
    };
    walk(result.Plan, false);
    return figures;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The months (by their month partition) of a set of leaves, each with the leaves read in it. */
export function byMonth(names: Iterable<string>, leaves: ReadonlyMap<string, Leaf>): Map<string, Leaf[]> {
  const months = new Map<string, Leaf[]>();
  for (const name of names) {
    const leaf = leaves.get(name)!;
    months.set(leaf.month, [...(months.get(leaf.month) ?? []), leaf]);
  }
  return months;
}

const MICROS_2000 = Date.UTC(2000, 0, 1) * 1000;
const day = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Seeds `sources` sources with `perMonth` points in each of `months` (first instants of months),
 * the first source's points of the last two months from one processed bundle, and a queued row
 * for the harvest; returns the sample the hot queries name (the first source's point in the last
 * month but one).
 */
export async function seedSample(client: pg.ClientBase, months: readonly Date[], sources = 16, perMonth = 20): Promise<HotSample> {
  const source = 'src-00';
  const { rows: bundles } = await client.query<{ id: string }>(
    `INSERT INTO bundles (endpoint, transport, body, status, processed_at, point_count, points_added, points_rejected, sources)
     VALUES ('bundle', 'create', '\\x5b5d', 'processed', now(), 0, 0, 0, ARRAY[$1]) RETURNING id`,
    [source],
  );
  const bundleId = Number(bundles[0].id);
  const bundleMonths = months.slice(-2).map((m) => m.toISOString());
  await client.query(
    `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
     SELECT s.source, 'webmunk-extension-element-show', 'Element Show', 'UA', m + k * interval '1 hour', 'timestamp', now(),
            CASE WHEN s.source = $4 AND m = ANY ($5::timestamptz[]) THEN $6 ELSE 0 END,
            md5(s.source || m::text || k)::uuid, jsonb_build_object('k', k, 'passive-data-metadata', jsonb_build_object('source', s.source))
     FROM (SELECT 'src-' || lpad(i::text, 2, '0') AS source FROM generate_series(0, $1::int - 1) i) s
     CROSS JOIN unnest($2::timestamptz[]) m CROSS JOIN generate_series(1, $3::int) k`,
    [sources, months.map((m) => m.toISOString()), perMonth, source, bundleMonths, bundleId],
  );
  // (reprocess recounts the sources it touches that data_sources holds)
  await client.query(
    `INSERT INTO data_sources (source, first_seen, point_count) SELECT source, now(), count(*) FROM data_points GROUP BY source`,
  );
  const month = months.at(-2)!;
  const created = new Date(month.getTime() + 3_600_000);
  const { rows: point } = await client.query<{ digest: string }>(
    `SELECT replace(content_digest::text, '-', '') AS digest FROM data_points WHERE source = $1 AND created = $2`,
    [source, created],
  );
  const { rows: queued } = await client.query<{ id: string }>(
    `INSERT INTO harvest_queue (source, created, content_digest) VALUES ($1, $2, $3::uuid) RETURNING id`,
    [source, created, point[0].digest],
  );
  const { rows: span } = await client.query<{ first: string; last: string }>(
    'SELECT min(created)::text AS first, max(created)::text AS last FROM data_points WHERE bundle_id = $1',
    [bundleId],
  );
  await client.query('ANALYZE data_points');
  await client.query('ANALYZE harvest_queue');
  return {
    source,
    generatorId: 'webmunk-extension-element-show',
    createdMicros: created.getTime() * 1000 - MICROS_2000,
    created: created.toISOString(),
    digest: point[0].digest,
    from: day(month),
    to: day(new Date(month.getTime() + 10 * 86_400_000)),
    bundleFirst: span[0].first,
    bundleLast: span[0].last,
    queueId: Number(queued[0].id),
  };
}
