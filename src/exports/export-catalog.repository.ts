/**
 * What can be exported: sources (all, by group, or named), data types with labels and point
 * counts, and the sources the nightly export covers. Read by the Export page, the CLI and the
 * nightly job, so all three resolve a request the same way.
 */
import type { Pool } from '../db/database.ts';
import { dayCounted, excludedDays } from '../data-quality/exclusion-sql.ts';
import type { SourceSelection } from './report-jobs.repository.ts';
import { ASIN_DETAILS_TYPE } from './asin-details.ts';
import { VIRTUAL_TYPES } from './columns/index.ts';

export const NOT_IN_GROUP = '(Not in group)';

/** The sorted source identifiers a selection stands for (removed sources only when named). */
export async function resolveSources(pool: Pool, selection: SourceSelection): Promise<string[]> {
  let rows;
  if ('all' in selection) {
    ({ rows } = await pool.query(`SELECT source FROM data_sources WHERE removed_at IS NULL ORDER BY source COLLATE "C"`));
  } else if ('groups' in selection) {
    ({ rows } = await pool.query(
      `SELECT s.source FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
       WHERE s.removed_at IS NULL AND (lower(g.name) = ANY($1::text[]) OR ($2 AND g.id IS NULL))
       ORDER BY s.source COLLATE "C"`,
      [selection.groups.map((g) => g.toLowerCase()), selection.groups.includes(NOT_IN_GROUP)],
    ));
  } else {
    ({ rows } = await pool.query(`SELECT source FROM data_sources WHERE source = ANY($1::text[]) ORDER BY source COLLATE "C"`, [selection.sources]));
  }
  return rows.map((row) => row.source as string);
}

/** Named sources that have no data (for a clear error instead of an empty archive). */
export async function unknownSources(pool: Pool, sources: readonly string[]): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT s FROM unnest($1::text[]) s WHERE NOT EXISTS (SELECT 1 FROM data_sources d WHERE d.source = s)`,
    [sources],
  );
  return rows.map((row) => row.s as string);
}

export interface ExportableType {
  identifier: string;
  label: string;
  points: number;
}

/**
 * Every data type with points, and its point count (from the statistics the source-statistics
 * job keeps, so the page never counts data_points; the days exclusion rules leave out are not
 * counted), plus the virtual combined types.
 */
export async function exportableTypes(pool: Pool, timeZone: string): Promise<ExportableType[]> {
  const { rows } = await pool.query(
    `WITH excluded AS MATERIALIZED (${excludedDays('$1')})
     SELECT p.generator_id AS identifier, coalesce(t.label, p.generator_id) AS label, sum(p.points)::int8 AS points
     FROM source_daily_points p LEFT JOIN data_types t ON t.identifier = p.generator_id
     WHERE ${dayCounted('p', 'excluded')}
     GROUP BY p.generator_id, t.label ORDER BY p.generator_id COLLATE "C"`,
    [timeZone],
  );
  const types: ExportableType[] = rows.map((row) => ({ identifier: row.identifier, label: row.label, points: Number(row.points) }));
  for (const virtual of VIRTUAL_TYPES) {
    const points = types.filter((t) => virtual.generators.includes(t.identifier)).reduce((sum, t) => sum + t.points, 0);
    if (points > 0) types.push({ identifier: virtual.id, label: virtual.label, points });
  }
  // webmunk-asin-details counts products, not points
  const { rows: products } = await pool.query('SELECT count(*)::int8 AS n FROM amazon_products');
  if (Number(products[0].n) > 0) types.push({ identifier: ASIN_DETAILS_TYPE, label: 'Webmunk: ASIN Details', points: Number(products[0].n) });
  return types;
}

/** Data type → label, from the catalog processing keeps in data_types. */
export async function typeLabels(pool: Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query('SELECT identifier, label FROM data_types');
  const labels = new Map<string, string>(rows.map((row) => [row.identifier, row.label]));
  for (const virtual of VIRTUAL_TYPES) labels.set(virtual.id, virtual.label);
  labels.set(ASIN_DETAILS_TYPE, 'Webmunk: ASIN Details');
  return labels;
}

/**
 * Every data type that has points at all (`--types all`), from the statistics rather than
 * data_points: the days the source-statistics job has folded (a skip scan of their
 * generator_id index, one probe per type) and the counts it has not folded yet. Points that
 * exclusion rules leave out count here: an export lists what it left out.
 */
export async function typesPresent(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(`
    WITH RECURSIVE folded AS (
      SELECT (SELECT min(generator_id) FROM source_daily_points WHERE points > 0) AS id
      UNION ALL
      SELECT (SELECT min(generator_id) FROM source_daily_points WHERE generator_id > folded.id AND points > 0) FROM folded WHERE folded.id IS NOT NULL)
    SELECT id FROM (
      SELECT id FROM folded WHERE id IS NOT NULL
      UNION
      SELECT generator_id FROM source_point_deltas WHERE points > 0) present
    ORDER BY id COLLATE "C"`);
  return rows.map((row) => row.id);
}

/**
 * The nightly export's sources (webmunk-server.md §4.7): every source not removed, minus those
 * whose alerts are suppressed (itself or by its group, as the original) and the excluded ones.
 */
export async function nightlySources(pool: Pool, exclude: readonly string[]): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT s.source FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
     WHERE s.removed_at IS NULL AND NOT s.suppress_alerts AND NOT coalesce(g.suppress_alerts, false)
       AND NOT (s.source = ANY($1::text[]))
     ORDER BY s.source COLLATE "C"`,
    [exclude],
  );
  return rows.map((row) => row.source as string);
}
