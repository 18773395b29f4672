/**
 * The hot queries on data_points (scale-out.md §3, Q4, Q10, Q11, Q13, Q14), one list for the
 * tests that read their plans: test/db/hash-by-source.test.ts (each source-keyed query reads one
 * source's partition per month, the Citus rule checked without Citus) and
 * test/db/thousand-partitions.test.ts (partitions touched and planning time with 1,000 months).
 * The SQL is the repository modules' own, with sample parameters naming one stored point
 * (`HotSample`), which each test seeds.
 *
 * Not here: the COPY and INSERTs that store points, file links and harvested points (PostgreSQL
 * routes each row to its partition; their keys are what the hash test checks), and the queries
 * of other tables (bundles: test/db/*bundles*).
 */
import { queuedPointsSql } from '../../src/amazon/scan-queued.ts';
import { LATEST_POINTS_SQL } from '../../src/dashboard/source-detail.repository.ts';
import { pointsSql } from '../../src/exports/point-query.ts';
import { REPROCESS_SPANS_SQL, REPROCESS_SQL } from '../../src/processing/reprocess.ts';
import { STORED_POINTS_SQL } from '../../src/processing/store-points.ts';

/** One stored point and its surroundings, which the sample parameters name. */
export interface HotSample {
  source: string;
  generatorId: string;
  /** microseconds since 2000-01-01 UTC (processing's form) */
  createdMicros: number;
  /** the same, ISO text */
  created: string;
  /** content_digest, 32 hex digits */
  digest: string;
  /** the first and last day (YYYY-MM-DD, UTC) of an export window inside the point's month */
  from: string;
  to: string;
  /** the `created` range of the points of the source's bundles, as PostgreSQL prints it (what REPROCESS_SPANS_SQL finds) */
  bundleFirst: string;
  bundleLast: string;
  /** a harvest_queue row that names the point */
  queueId: number;
}

export interface HotQuery {
  name: string;
  sql: string;
  params: unknown[];
  /** Each partition of data_points it reads holds the sample's source only (one hash partition per month). */
  bySource: boolean;
  /** The most monthly partitions it reads (pruned at plan or run time); null: every month (no time bound). */
  maxMonths: number | null;
  /** For a statement that deletes points: the most monthly partitions its DELETE reads (the sample's span). */
  deleteMonths?: number;
}

export function hotQueries(sample: HotSample, quote: (text: string) => string): HotQuery[] {
  const window = { generators: [sample.generatorId], sources: [sample.source], timeZone: 'UTC', order: 'newest-first' } as const;
  const reprocess = [sample.source, null, null, false];
  return [
    {
      name: 'processing: which points are stored (store-points.ts)',
      sql: STORED_POINTS_SQL,
      params: [[sample.source], `{${sample.createdMicros}}`, `{${sample.digest}}`, sample.created, sample.created],
      bySource: true,
      maxMonths: 1,
    },
    {
      name: 'ASIN harvest: the points its outbox names (scan-queued.ts)',
      sql: queuedPointsSql([sample.queueId], quote),
      params: [],
      bySource: true,
      maxMonths: 1,
    },
    {
      name: 'export: one source, one month by created (point-query.ts)',
      sql: pointsSql({ ...window, dateType: 'created', from: sample.from, to: sample.to }, quote),
      params: [],
      bySource: true,
      maxMonths: 1,
    },
    {
      name: 'export: one source, all of it (point-query.ts)',
      sql: pointsSql({ ...window, dateType: 'created' }, quote),
      params: [],
      bySource: true,
      maxMonths: null,
    },
    {
      name: 'export: one source by recorded (point-query.ts)',
      sql: pointsSql({ ...window, dateType: 'recorded', from: sample.from, to: sample.to }, quote),
      params: [],
      bySource: true,
      maxMonths: null,
    },
    {
      name: 'source page: latest points of a type (source-detail.repository.ts)',
      sql: LATEST_POINTS_SQL,
      params: [sample.source, sample.generatorId, 25, 0],
      bySource: true,
      maxMonths: null,
    },
    {
      // by bundle id: the one read that cannot know its sources or months beforehand
      name: 'reprocess: where the bundles\' points are (reprocess.ts)',
      sql: REPROCESS_SPANS_SQL,
      params: reprocess,
      bySource: false,
      maxMonths: null,
    },
    {
      name: 'reprocess: delete the bundles\' points and queue them (reprocess.ts)',
      sql: REPROCESS_SQL,
      params: [...reprocess, [sample.source], sample.bundleFirst, sample.bundleLast],
      // its recount reads the whole source (every month); the DELETE only the bundle's two months
      bySource: true,
      maxMonths: null,
      deleteMonths: 2,
    },
  ];
}
