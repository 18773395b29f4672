/**
 * What `fetch-metadata.json` reads: a source's statistics as the source-statistics job keeps them
 * (data_sources' columns, source_daily_points per data type and day, labels from data_types), and
 * the id of its newest point. data_points is never scanned: the id is one lookup in its
 * (source, generator_id, created) index, one descent per data type the source sent around the time
 * of its newest point.
 */
import type { Pool } from '../db/database.ts';
import { dayCounted, excludedDays } from '../data-quality/exclusion-sql.ts';

export interface GeneratorStatistics {
  generatorId: string;
  label: string;
  points: number;
  firstCreated: Date;
  lastCreated: Date;
  lastRecorded: Date;
}

export interface SourceStatistics {
  latestPointId: number | null;
  latestPointCreated: Date | null;
  latestPointRecorded: Date | null;
  latestUserAgent: string | null;
  /** points created in the statistics window */
  windowPoints: number;
  /** windowPoints / seconds between the window's first and last point; null with fewer than 2 points or no time between */
  frequencyHz: number | null;
  /** per data type over the same window (the days up to the one the job last computed), by identifier */
  generators: GeneratorStatistics[];
}

/*
 * One statement, so the source's totals and its per-type rows come from one snapshot (the job
 * rewrites both). A daily row's day is that of its 10-minute bucket, at most one day before its
 * points' `created`, hence the `- 1` in the lookup's day bound. The window is the recompute's
 * (statistics.sql.ts): the METADATA_WINDOW_DAYS days ending stats_day, days with points only,
 * without the days exclusion rules leave out (as the window's total, which the job computes so).
 *
 * $1 text  the source
 * $2 int   METADATA_WINDOW_DAYS
 * $3 text  TIME_ZONE
 */
const SOURCE_STATISTICS_SQL = `
WITH excluded AS MATERIALIZED (${excludedDays('$3', '(SELECT $1::text AS source) AS this')})
SELECT s.latest_point_created, s.latest_point_recorded, s.latest_user_agent, s.window_points, s.frequency_hz,
       latest.id AS latest_point_id,
       g.generator_id, g.label, g.points, g.first_created, g.last_created, g.last_recorded
FROM data_sources s
LEFT JOIN LATERAL (
  SELECT max(p.id) AS id FROM data_points p
  WHERE p.source = s.source AND p.created = s.latest_point_created
    AND p.generator_id = ANY (ARRAY(
      SELECT DISTINCT d.generator_id FROM source_daily_points d
      WHERE d.source = s.source AND d.day >= (s.latest_point_created AT TIME ZONE $3)::date - 1))
) latest ON true
LEFT JOIN LATERAL (
  SELECT d.generator_id, coalesce(t.label, d.generator_id) AS label, sum(d.points)::bigint AS points,
         min(d.first_created) AS first_created, max(d.last_created) AS last_created, max(d.last_recorded) AS last_recorded
  FROM source_daily_points d LEFT JOIN data_types t ON t.identifier = d.generator_id
  WHERE d.source = s.source AND d.day > s.stats_day - $2::int AND d.points > 0 AND ${dayCounted('d', 'excluded')}
  GROUP BY d.generator_id, t.label
) g ON true
WHERE s.source = $1 AND s.removed_at IS NULL
ORDER BY g.generator_id`;

/** The statistics of `source`; undefined when there is no such source, or it was removed from the dashboard. */
export async function findSourceStatistics(db: Pool, source: string, windowDays: number, timeZone: string): Promise<SourceStatistics | undefined> {
  const { rows } = await db.query(SOURCE_STATISTICS_SQL, [source, windowDays, timeZone]);
  if (rows.length === 0) return undefined;
  const [first] = rows;
  return {
    latestPointId: first.latest_point_id === null ? null : Number(first.latest_point_id),
    latestPointCreated: first.latest_point_created,
    latestPointRecorded: first.latest_point_recorded,
    latestUserAgent: first.latest_user_agent,
    windowPoints: Number(first.window_points),
    frequencyHz: first.frequency_hz,
    generators: rows.filter((r) => r.generator_id !== null).map((r) => ({
      generatorId: r.generator_id,
      label: r.label,
      points: Number(r.points),
      firstCreated: r.first_created,
      lastCreated: r.last_created,
      lastRecorded: r.last_recorded,
    })),
  };
}
