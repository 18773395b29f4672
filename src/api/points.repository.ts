/**
 * The data-points query of the PDK API: which fields a caller may filter and order on, and the
 * count and page of one query. The enrollment server's calls are per source, newest first
 * (ecosystem-api.md §2.2.5), with `{"recorded__lte": now}` always first: `data_points_source
 * (source, generator_id, created)` serves those of one data type, `data_points_source_created
 * (source, created)` (migration 0016) those of all of a source's types, and `queryPoints` answers
 * them without reading `recorded` from the table when it cannot exclude anything (10,000 sources,
 * 50 M points: BENCHMARKS.md "PDK query API at study scale").
 */
import type { PoolClient } from '../db/database.ts';
import type { ResolvedRule } from '../data-quality/exclusion-rules.repository.ts';
import { notExcluded } from '../data-quality/exclusion-sql.ts';
import { SqlParams, whereClause, type FieldSpec } from './lookups.ts';

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

async function countPoints(db: PoolClient, where: string, params: SqlParams): Promise<number> {
  const { rows } = await db.query(`SELECT count(*) AS count FROM data_points WHERE ${where}`, params.values);
  return Number(rows[0].count);
}

/**
 * One page; the order ends with id so that pages of equal times stay stable. Without an order
 * (the original had none), oldest first: `created` leads or ends every index on data_points,
 * while an order by id alone would sort all of a participant's points for each page.
 */
async function pagePoints(db: PoolClient, where: string, params: SqlParams, order: string[], limit: number, offset: number): Promise<PointMatch[]> {
  const stable = order.length === 0 ? ['created', 'id'] : [...order, order[0].endsWith('DESC') ? 'id DESC' : 'id'];
  const { rows } = await db.query(
    `SELECT properties, extract(epoch FROM created)::float8 AS created_epoch, extract(epoch FROM recorded)::float8 AS recorded_epoch
     FROM data_points WHERE ${where}
     ORDER BY ${stable.join(', ')}
     LIMIT $${params.values.length + 1} OFFSET $${params.values.length + 2}`,
    [...params.values, limit, offset],
  );
  return rows.map((row) => ({ properties: row.properties, createdEpoch: row.created_epoch, recordedEpoch: row.recorded_epoch }));
}

export interface PointQuery {
  filters: unknown;
  excludes: unknown;
  /** ORDER BY terms from orderClause */
  order: string[];
  /** `latest_pk`: only points with an id up to this */
  snapshot?: number;
  /** the exclusion rules in force: the points they match are not answered (the caller's include_excluded leaves this empty) */
  exclusions?: readonly ResolvedRule[];
}

/** Filter keys that bound `recorded` from above, as the client's automatic `recorded__lte: now`. */
const RECORDED_UPPER = new Set(['recorded__lte', 'recorded__lt']);
/** Those bounds tested against the newest `recorded` of a source's points (processing keeps it). */
const NEWEST_RECORDED: Record<string, FieldSpec> = { recorded: { ...POINT_FIELDS.recorded, sql: 'latest_point_recorded' } };

const objectsOf = (filters: unknown): Record<string, unknown>[] => (Array.isArray(filters) ? filters as Record<string, unknown>[] : []);

/** The one participant the filters name with `source` (several objects may repeat it), if exactly one. */
function onlySource(filters: unknown): string | undefined {
  const values = new Set(objectsOf(filters).filter((o) => Object.hasOwn(o, 'source')).map((o) => o.source));
  const [value] = values;
  return values.size === 1 && (typeof value === 'string' || typeof value === 'number') ? String(value) : undefined;
}

/**
 * The query's count and page, in the caller's snapshot (a REPEATABLE READ transaction, so every
 * statement here sees the same points). For one participant with an upper bound on `recorded` at
 * or after the newest `recorded` of its points (`data_sources.latest_point_recorded`, written in the
 * transaction that stores them, the greatest ever: record-batch.sql.ts), the bound cannot exclude
 * anything and is left out, so the indexes serve the rest; when nothing else remains but the
 * source, the count is the participant's `point_count`, counted in that same transaction.
 */
export async function queryPoints(db: PoolClient, query: PointQuery, limit: number, offset: number): Promise<{ count: number; matches: PointMatch[] }> {
  let params = new SqlParams();
  // Validates every filter first: a refused query never reaches the shortcut.
  let where = whereClause(POINT_FIELDS, query.filters, query.excludes, params);
  const source = onlySource(query.filters);
  const bounds = objectsOf(query.filters).flatMap((o) => Object.keys(o).filter((k) => RECORDED_UPPER.has(k)).map((k) => ({ [k]: o[k] })));
  let sourceCount: number | undefined;
  const exclusions = (query.exclusions ?? []).filter((rule) => source === undefined || !rule.sources || rule.sources.includes(source));
  if (source !== undefined && bounds.length > 0) {
    const probe = new SqlParams();
    const covered = whereClause(NEWEST_RECORDED, bounds, [], probe);
    const { rows } = await db.query(`SELECT point_count FROM data_sources WHERE source = ${probe.add(source)} AND ${covered}`, probe.values);
    if (rows.length === 1) {
      const filters = objectsOf(query.filters).map((o) => Object.fromEntries(Object.entries(o).filter(([k]) => !RECORDED_UPPER.has(k))));
      params = new SqlParams();
      where = whereClause(POINT_FIELDS, filters, query.excludes, params);
      const onlyTheSource = filters.every((o) => Object.keys(o).every((k) => k === 'source')) && objectsOf(query.excludes).every((o) => Object.keys(o).length === 0);
      if (onlyTheSource && query.snapshot === undefined && exclusions.length === 0) sourceCount = Number(rows[0].point_count);
    }
  }
  if (query.snapshot !== undefined) where += ` AND id <= ${params.add(query.snapshot)}::bigint`;
  if (exclusions.length > 0) where += ` AND ${notExcluded(exclusions, (text) => db.escapeLiteral(text))}`;
  return {
    count: sourceCount ?? await countPoints(db, where, params),
    matches: await pagePoints(db, where, params, query.order, limit, offset),
  };
}
