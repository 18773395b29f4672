/**
 * Dead rows per table, from PostgreSQL's statistics (pg_stat_user_tables.n_dead_tup), summed over
 * the table's partitions when it is partitioned. For the bundle queue this is the leading
 * indicator of its health: dead rows, not the queue's depth, slow the claim (scale-out.md §2a,
 * M9); a count that keeps rising means autovacuum cannot keep up or a long transaction holds the
 * horizon (docs/monitoring.md).
 */
import type { Pool } from '../db/database.ts';

/** The tables /metrics reports: the queue, and the table processing writes most. */
export const DEAD_TUPLE_TABLES = ['bundles', 'data_points'] as const;

export async function readDeadTuples(pool: Pool, tables: readonly string[] = DEAD_TUPLE_TABLES): Promise<{ table: string; dead: number }[]> {
  // The table itself and, when it is partitioned, its partitions (pg_partition_tree lists nothing
  // for a plain table).
  const { rows } = await pool.query<{ table: string; dead: number }>(
    `SELECT t.name AS table, coalesce(sum(s.n_dead_tup), 0)::bigint AS dead
     FROM unnest($1::text[]) WITH ORDINALITY AS t(name, position)
     LEFT JOIN LATERAL (SELECT to_regclass(t.name) AS relid UNION SELECT relid FROM pg_partition_tree(to_regclass(t.name))) p ON true
     LEFT JOIN pg_stat_user_tables s ON s.relid = p.relid
     GROUP BY t.name, t.position ORDER BY t.position`,
    [tables],
  );
  return rows;
}
