/**
 * The data-points query of the PDK API: which fields a caller may filter and order on, and the
 * count and page of one query. The enrollment server's calls are per source, newest first
 * (ecosystem-api.md §2.2.5): `data_points_source (source, generator_id, created)` serves them.
 */
import type { PoolClient } from '../db/database.ts';
import type { FieldSpec, SqlParams } from './lookups.ts';

const TIME_LOOKUPS = ['exact', 'gt', 'gte', 'lt', 'lte'] as const;

export const POINT_FIELDS: Record<string, FieldSpec> = {
  source: { sql: 'source', type: 'text', lookups: ['exact', 'in'], nullable: false },
  generator_identifier: { sql: 'generator_id', type: 'text', lookups: ['exact', 'in'], nullable: false },
  secondary_identifier: { sql: 'secondary_identifier', type: 'text', lookups: ['exact', 'in', 'isnull'] },
  created: { sql: 'created', type: 'time', lookups: TIME_LOOKUPS, nullable: false },
  recorded: { sql: 'recorded', type: 'time', lookups: TIME_LOOKUPS, nullable: false },
  id: { sql: 'id', type: 'integer', lookups: [...TIME_LOOKUPS, 'in'], nullable: false },
  pk: { sql: 'id', type: 'integer', lookups: [...TIME_LOOKUPS, 'in'], nullable: false },
};

export const POINT_ORDER: Record<string, string> = {
  created: 'created', recorded: 'recorded', id: 'id', pk: 'id', source: 'source', generator_identifier: 'generator_id',
};

export interface PointMatch {
  properties: Record<string, unknown>;
  createdEpoch: number;
  recordedEpoch: number;
}

/**
 * The newest point id handed out so far (the reply's `latest`), from the identity sequence: the
 * original's max(pk) would read the whole table here, which has no btree on id.
 */
export async function latestPointId(db: PoolClient): Promise<number> {
  const { rows } = await db.query(`SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('data_points', 'id')::regclass), 0) AS latest`);
  return Number(rows[0].latest);
}

export async function countPoints(db: PoolClient, where: string, params: SqlParams): Promise<number> {
  const { rows } = await db.query(`SELECT count(*) AS count FROM data_points WHERE ${where}`, params.values);
  return Number(rows[0].count);
}

/** One page; `order` ends with id so that pages of equal times stay stable. */
export async function pagePoints(db: PoolClient, where: string, params: SqlParams, order: string[], limit: number, offset: number): Promise<PointMatch[]> {
  const { rows } = await db.query(
    `SELECT properties, extract(epoch FROM created)::float8 AS created_epoch, extract(epoch FROM recorded)::float8 AS recorded_epoch
     FROM data_points WHERE ${where}
     ORDER BY ${[...order, order.length > 0 && order[0].endsWith('DESC') ? 'id DESC' : 'id'].join(', ')}
     LIMIT $${params.values.length + 1} OFFSET $${params.values.length + 2}`,
    [...params.values, limit, offset],
  );
  return rows.map((row) => ({ properties: row.properties, createdEpoch: row.created_epoch, recordedEpoch: row.recorded_epoch }));
}
