/**
 * The data-quality flags' queries: the job's cursors, what an id range of new points and the newly
 * processed bundles show (flags-scan.sql.ts), and adding that evidence to data_quality_flags.
 * The caller opens the transactions.
 */
import type { PoolClient } from '../db/database.ts';
import { DUPLICATES_SQL, POINT_RANGE_SQL } from './flags-scan.sql.ts';
import { MAX_EXAMPLES, type Evidence, type FlagKind } from './flags-rules.ts';

type Db = Pick<PoolClient, 'query'>;

export interface FlagsState {
  lastPointId: number;
  /** processed_at as PostgreSQL prints it: microseconds matter to the cursor */
  lastBundleProcessedAt: string;
  lastBundleId: number;
}

export async function lockFlagsState(db: Db): Promise<FlagsState> {
  const { rows } = await db.query(`SELECT last_point_id, last_bundle_processed_at::text AS at, last_bundle_id FROM data_quality_state FOR UPDATE`);
  return { lastPointId: Number(rows[0].last_point_id), lastBundleProcessedAt: rows[0].at, lastBundleId: Number(rows[0].last_bundle_id) };
}

export async function saveFlagsState(db: Db, state: FlagsState): Promise<void> {
  await db.query(
    `UPDATE data_quality_state SET last_point_id = $1, last_bundle_processed_at = $2, last_bundle_id = $3, updated_at = now()`,
    [state.lastPointId, state.lastBundleProcessedAt, state.lastBundleId],
  );
}

/**
 * The highest point id below which no transaction can still add a point: the SHARE lock waits for
 * the writers in progress (processing batches) and holds new ones back a moment, so a late commit
 * is read on the next run.
 */
export async function committedMaxPointId(db: Db): Promise<number> {
  await db.query(`SET LOCAL lock_timeout = '30s'`);
  await db.query('LOCK TABLE data_points IN SHARE MODE');
  const { rows } = await db.query('SELECT coalesce(max(id), 0) AS max FROM data_points');
  return Number(rows[0].max);
}

export interface AgentRow {
  source: string;
  user_agent: string;
  n: number;
  first_seen: Date;
  last_seen: Date;
}

interface AggregateRow {
  source: string;
  n: number;
  first_seen: Date | string;
  last_seen: Date | string;
  examples: Record<string, unknown>[];
}

const evidenceOf = (kind: FlagKind) => (row: AggregateRow): Evidence => ({
  source: row.source, kind, count: row.n, firstSeen: new Date(row.first_seen), lastSeen: new Date(row.last_seen), examples: row.examples,
});

export interface RateRow {
  source: string;
  generator_id: string;
  minute: Date;
  n: number;
}

export interface PointRangeLimits {
  skewHours: number;
  futureMinutes: number;
  /** the lowest points-per-minute limit of any type: busier minutes are returned */
  lowestRate: number;
  interleaveMinutes: number;
}

export interface PointRangeRead {
  agents: AgentRow[];
  skew: Evidence[];
  busyMinutes: RateRow[];
  interleaved: Evidence[];
}

/** What the points with ids in (after, upTo] show (POINT_RANGE_SQL): a few rows per source. */
export async function readPointRange(db: Db, after: number, upTo: number, limits: PointRangeLimits): Promise<PointRangeRead> {
  const { rows } = await db.query(POINT_RANGE_SQL, [after, upTo, limits.skewHours, limits.futureMinutes, limits.lowestRate, limits.interleaveMinutes]);
  const { agents, skew, busy_minutes: busyMinutes, interleaved } = rows[0];
  // jsonb carries times as text
  return {
    agents: (agents as AgentRow[]).map((a) => ({ ...a, first_seen: new Date(a.first_seen), last_seen: new Date(a.last_seen) })),
    skew: (skew as AggregateRow[]).map(evidenceOf('clock-skew')),
    busyMinutes: (busyMinutes as RateRow[]).map((m) => ({ ...m, minute: new Date(m.minute) })),
    interleaved: (interleaved as AggregateRow[]).map(evidenceOf('interleaved')),
  };
}

export interface DuplicatesRead {
  bundles: number;
  cursor: { processedAt: string; id: number } | null;
  evidence: Evidence[];
}

/** Up to `limit` bundles processed after the cursor: the uploads that stored nothing new. */
export async function duplicateUploadsSince(db: Db, processedAt: string, id: number, limit: number): Promise<DuplicatesRead> {
  const { rows } = await db.query(DUPLICATES_SQL, [processedAt, id, limit]);
  const { bundles, cursor, evidence } = rows[0];
  return {
    bundles,
    // jsonb prints a timestamptz with its microseconds, which the next run's comparison needs
    cursor: cursor ? { processedAt: cursor.processed_at, id: Number(cursor.id) } : null,
    evidence: (evidence as AggregateRow[]).map(evidenceOf('duplicate-storm')),
  };
}

/**
 * Adds `evidence` (one row per source and kind) to the flags: counts summed, times widened, the
 * first examples kept, and the flag raised once its count reaches the kind's threshold.
 */
export async function addEvidence(db: Db, evidence: Evidence[], thresholds: Record<FlagKind, number>): Promise<number> {
  if (evidence.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO data_quality_flags AS f (source, kind, evidence_count, first_seen, last_seen, examples, raised_at)
     SELECT e.source, e.kind, e.count, e.first_seen, e.last_seen, e.examples,
            CASE WHEN e.count >= ($2::jsonb ->> e.kind)::bigint THEN now() END
     FROM jsonb_to_recordset($1::jsonb) AS e(source text, kind text, count bigint, first_seen timestamptz, last_seen timestamptz, examples jsonb)
     ON CONFLICT (source, kind) DO UPDATE SET
       evidence_count = f.evidence_count + excluded.evidence_count,
       first_seen = least(f.first_seen, excluded.first_seen),
       last_seen = greatest(f.last_seen, excluded.last_seen),
       examples = (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT x FROM jsonb_array_elements(f.examples || excluded.examples) WITH ORDINALITY AS a(x, i) ORDER BY i LIMIT $3) k),
       raised_at = coalesce(f.raised_at, CASE WHEN f.evidence_count + excluded.evidence_count >= ($2::jsonb ->> f.kind)::bigint THEN now() END)`,
    [
      JSON.stringify(evidence.map((e) => ({ source: e.source, kind: e.kind, count: e.count, first_seen: e.firstSeen, last_seen: e.lastSeen, examples: e.examples.slice(0, MAX_EXAMPLES) }))),
      JSON.stringify(thresholds),
      MAX_EXAMPLES,
    ],
  );
  return rowCount ?? 0;
}

export interface SourceSummary {
  source: string;
  point_count: number;
  first_seen: Date;
  latest_point_created: Date | null;
}

/** Every source (one row each: not points). The test-identifier check runs on all of them, so a new pattern applies at once. */
export async function allSources(db: Db): Promise<SourceSummary[]> {
  return (await db.query<SourceSummary>(`SELECT source, point_count::float8 AS point_count, first_seen, latest_point_created FROM data_sources`)).rows;
}

/**
 * The test-identifier flags: raised (again) for `matching` sources with their point counts,
 * cleared for every other source that had one. Returns how many were raised and cleared.
 */
export async function setTestIdentifiers(db: Db, matching: Array<SourceSummary & { pattern: string }>): Promise<{ raised: number; cleared: number }> {
  const raised = await db.query(
    `INSERT INTO data_quality_flags AS f (source, kind, evidence_count, first_seen, last_seen, examples, raised_at)
     SELECT s.source, 'test-identifier', s.point_count, s.first_seen, coalesce(s.latest_point_created, s.first_seen),
            jsonb_build_array(jsonb_build_object('identifier', s.source, 'pattern', s.pattern)), now()
     FROM jsonb_to_recordset($1::jsonb) AS s(source text, point_count bigint, first_seen timestamptz, latest_point_created timestamptz, pattern text)
     ON CONFLICT (source, kind) DO UPDATE SET
       evidence_count = excluded.evidence_count, last_seen = excluded.last_seen, examples = excluded.examples,
       raised_at = CASE WHEN f.cleared_at IS NULL THEN f.raised_at ELSE now() END, cleared_at = NULL
     WHERE f.evidence_count IS DISTINCT FROM excluded.evidence_count OR f.cleared_at IS NOT NULL OR f.examples <> excluded.examples`,
    [JSON.stringify(matching)],
  );
  const cleared = await db.query(
    `UPDATE data_quality_flags SET cleared_at = now()
     WHERE kind = 'test-identifier' AND cleared_at IS NULL AND NOT (source = ANY($1::text[]))`,
    [matching.map((s) => s.source)],
  );
  return { raised: raised.rowCount ?? 0, cleared: cleared.rowCount ?? 0 };
}
