/**
 * What the source page reads: the source, its per-type statistics (from source_daily_points,
 * kept by the source-statistics job), its recent 10-minute buckets and its latest points (one
 * index range of data_points (source, generator_id, created) per page).
 */
import type { Pool } from '../db/database.ts';
import type { DataPointsRow, DataSourcesRow } from '../db/rows.ts';
import { dayCounted, excludedDays } from '../data-quality/exclusion-sql.ts';

export interface SourceDetail {
  source: string;
  name: string | null;
  groupName: string | null;
  suppressAlerts: boolean;
  groupSuppressAlerts: boolean;
  removedAt: Date | null;
  firstSeen: Date;
  lastUploadAt: Date | null;
  latestPointCreated: Date | null;
  latestPointRecorded: Date | null;
  latestUserAgent: string | null;
  pointCount: number;
  windowPoints: number;
  frequencyHz: number | null;
  statsUpdatedAt: Date | null;
}

export async function findSource(db: Pool, source: string): Promise<SourceDetail | undefined> {
  const { rows: [r] } = await db.query<DataSourcesRow & { group_name: string | null; group_suppress: boolean }>(
    `SELECT s.*, g.name AS group_name, coalesce(g.suppress_alerts, false) AS group_suppress
     FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id WHERE s.source = $1`,
    [source],
  );
  if (!r) return undefined;
  return {
    source: r.source, name: r.name, groupName: r.group_name, suppressAlerts: r.suppress_alerts, groupSuppressAlerts: r.group_suppress,
    removedAt: r.removed_at, firstSeen: r.first_seen, lastUploadAt: r.last_upload_at, latestPointCreated: r.latest_point_created,
    latestPointRecorded: r.latest_point_recorded, latestUserAgent: r.latest_user_agent, pointCount: Number(r.point_count),
    windowPoints: Number(r.window_points), frequencyHz: r.frequency_hz, statsUpdatedAt: r.stats_updated_at,
  };
}

export interface TypeStatistics {
  generatorId: string;
  label: string;
  points: number;
  firstCreated: Date;
  lastCreated: Date;
  lastRecorded: Date;
}

/** Per data type, over all days, without the days exclusion rules leave out; newest data type first. */
export async function listTypeStatistics(db: Pool, source: string, timeZone: string): Promise<TypeStatistics[]> {
  const { rows } = await db.query(
    `WITH excluded AS MATERIALIZED (${excludedDays('$2', '(SELECT $1::text AS source) AS this')})
     SELECT d.generator_id, coalesce(t.label, d.generator_id) AS label, sum(d.points)::bigint AS points,
            min(d.first_created) AS first_created, max(d.last_created) AS last_created, max(d.last_recorded) AS last_recorded
     FROM source_daily_points d LEFT JOIN data_types t ON t.identifier = d.generator_id
     WHERE d.source = $1 AND d.points > 0 AND ${dayCounted('d', 'excluded')}
     GROUP BY d.generator_id, t.label ORDER BY max(d.last_created) DESC, d.generator_id`,
    [source, timeZone],
  );
  return rows.map((r) => ({
    generatorId: r.generator_id, label: r.label, points: Number(r.points),
    firstCreated: r.first_created, lastCreated: r.last_created, lastRecorded: r.last_recorded,
  }));
}

export interface BucketCount {
  bucket: Date;
  points: number;
}

/** Points per 10-minute bucket since `since`, by `created` ('c') or by `recorded` ('r'). */
export async function listRecentBuckets(db: Pool, source: string, kind: 'c' | 'r', since: Date): Promise<BucketCount[]> {
  const { rows } = await db.query(
    'SELECT bucket, points FROM source_recent_points WHERE source = $1 AND kind = $2 AND bucket >= $3 AND points > 0 ORDER BY bucket',
    [source, kind, since],
  );
  return rows.map((r) => ({ bucket: r.bucket, points: r.points }));
}

export type StoredPoint = Pick<DataPointsRow, 'created' | 'recorded' | 'properties'>;

/**
 * $1 source, $2 data type, $3 limit, $4 offset. The id breaks ties as the exports' order does
 * (point-query.ts): the points of one donated order share their `created`.
 */
export const LATEST_POINTS_SQL = `SELECT created, recorded, properties FROM data_points
  WHERE source = $1 AND generator_id = $2 ORDER BY created DESC, id DESC LIMIT $3 OFFSET $4`;

/** The latest points of one data type, newest first, `limit` from `offset`. */
export async function listLatestPoints(db: Pool, source: string, generatorId: string, limit: number, offset: number): Promise<StoredPoint[]> {
  const { rows } = await db.query<Pick<DataPointsRow, 'created' | 'recorded' | 'properties'>>(
    LATEST_POINTS_SQL,
    [source, generatorId, limit, offset],
  );
  return rows;
}
