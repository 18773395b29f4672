/**
 * The API benchmark's study, generated inside PostgreSQL (an upload path at 50 M points would take
 * a day on this machine): BENCH_API_SOURCES participants (10,000) with BENCH_API_POINTS points
 * (50,000,000) over 180 days, inserted one day at a time in the order processing would have stored
 * them (by `recorded`), then the indexes the migrations define, rebuilt from their own definitions.
 *
 * Points per participant follow a log-normal distribution (median 2,000, sigma 1.3, then scaled to
 * the total): most participants have a few thousand points, the top 1% tens of thousands to a few
 * hundred thousand. Browsing activity is heavy-tailed in every panel study (time online and pages
 * per day are roughly log-normal across people, and element-show points multiply with pages), and
 * participants join over the first 5 months and 30% of them drop out early, which widens the spread.
 *
 * Each point has the shape of the real samples (`passive-data-metadata` with source,
 * generator-id, timestamp; bodies cut to a field or two, so 50 M rows stay ~25 GB): about 6 pdk-system-status points a day per participant
 * (with `pending_points`), webmunk-amazon-order points with an `order-number` (1 in ~400 for two
 * thirds of the participants), webmunk-amazon-order-count (1 in ~2,000, `period`/`count`), and
 * the rest page/element types. data_sources is written as processing writes it (record-batch.sql.ts:
 * first_seen, latest point created/recorded, user agent, point_count), day by day in the same
 * statement that stores the day's points; source_point_deltas is left empty, as after the
 * source-statistics job has folded everything.
 */
import type pg from 'pg';

export const STUDY_DAYS = 180;
/** Bumped when the generated study changes, so a kept database is not reused (bench/api-bench.ts). */
export const STUDY_VERSION = 2;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Participants: identifier, enrolment and last day, points, user agent. */
function sourcesSql(sources: number, points: number): string {
  return `
DROP TABLE IF EXISTS bench_sources;
SELECT setseed(0.18);
CREATE TABLE bench_sources AS
WITH drawn AS (
  SELECT i,
         -- Box-Muller: a standard normal per participant
         sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z,
         floor(random() * 150)::int AS first_day,
         random() AS stays, random() AS drop_after
  FROM generate_series(0, ${sources - 1}) AS i
),
sized AS (
  SELECT *, exp(ln(2000) + 1.3 * z) AS raw FROM drawn
),
scaled AS (
  SELECT *, floor(raw * ${points}::numeric / sum(raw) OVER ())::bigint AS base FROM sized
)
SELECT i,
       (10000000 + (i::bigint * 7919) % 90000000)::text AS source,
       first_day,
       CASE WHEN stays < 0.7 THEN ${STUDY_DAYS - 1}
            ELSE least(${STUDY_DAYS - 1}, first_day + 14 + floor(drop_after * (${STUDY_DAYS - 1} - first_day))::int) END AS last_day,
       base + CASE WHEN row_number() OVER (ORDER BY i) <= ${points} - sum(base) OVER () THEN 1 ELSE 0 END AS n,
       'Study Browser Extension/0.' || (39 + i % 3) AS user_agent
FROM scaled;
ALTER TABLE bench_sources ADD PRIMARY KEY (i);
ANALYZE bench_sources;`;
}

/**
 * One day's points of every active participant, ordered by `recorded`, and the data_sources
 * upsert of record-batch.sql.ts for them. $1: the day (0 = oldest), $2: the study's end.
 * A participant's day is cut into `cnt` evenly spaced points; j numbers its points overall.
 */
const DAY_SQL = `
WITH active AS (
  SELECT s.*, last_day - first_day + 1 AS days,
         greatest(2, n / ((last_day - first_day + 1) * 6)) AS status_every,
         $2::timestamptz - make_interval(days => ${STUDY_DAYS} - $1::int) AS day_start
  FROM bench_sources s
  WHERE $1::int BETWEEN first_day AND last_day
),
counted AS (
  SELECT a.*, (($1::int - first_day + 1) * n / days) - (($1::int - first_day) * n / days) AS cnt,
         ($1::int - first_day) * n / days AS before
  FROM active a
),
points AS (
  SELECT c.i, c.source, c.user_agent, c.before + k AS j,
         c.day_start + make_interval(secs => (k * 86400.0 / c.cnt) + (c.i % 997) * 0.001) AS created,
         CASE WHEN (c.before + k) % c.status_every = 0 THEN 'pdk-system-status'
              WHEN c.i % 3 <> 0 AND (c.before + k) % 397 = 1 THEN 'webmunk-amazon-order'
              WHEN (c.before + k) % 1999 = 2 THEN 'webmunk-amazon-order-count'
              ELSE (ARRAY['webmunk-extension-element-show', 'webmunk-extension-element-show', 'webmunk-extension-element-show',
                          'webmunk-extension-element-show', 'webmunk-extension-element-show', 'webmunk-extension-element-hide',
                          'webmunk-extension-element-hide', 'webmunk-extension-matched-rule', 'webmunk-extension-matched-rule',
                          'webmunk-history-visit', 'webmunk-history-visit', 'webmunk-extension-class-added',
                          'webmunk-extension-scroll-position', 'webmunk-extension-element-click'])[1 + ((c.before + k) % 14 + c.i) % 14]
         END AS generator_id
  FROM counted c, generate_series(0, c.cnt - 1) AS k
  WHERE c.cnt > 0
),
shaped AS (
  SELECT p.*,
         -- processed in the minute after the upload that follows the observation
         least($2::timestamptz, date_trunc('minute', created) + make_interval(secs => 60 + i % 60)) AS recorded,
         jsonb_build_object('passive-data-metadata', jsonb_build_object('source', source, 'generator-id', generator_id,
             'timestamp', round(extract(epoch FROM created)::numeric, 3)))
         || CASE generator_id
              WHEN 'pdk-system-status' THEN jsonb_build_object('pending_points', (j * 37) % 500)
              WHEN 'webmunk-amazon-order' THEN jsonb_build_object('order-number', '114-' || lpad((j * 7 % 9999999)::text, 7, '0') || '-' || lpad((i % 9999999)::text, 7, '0'),
                'order-date', to_char(created, 'YYYY-MM-DD"T00:00:00.000Z"'), 'items', jsonb_build_array(jsonb_build_object('url', '/gp/product/B0' || lpad((j % 99999999)::text, 8, '0'), 'title', 'Item ' || j)))
              WHEN 'webmunk-amazon-order-count' THEN jsonb_build_object('period', 'year-' || extract(year FROM created), 'count', j % 40)
              WHEN 'webmunk-history-visit' THEN jsonb_build_object('url', 'https://www.example.com/p/' || (j % 5000), 'title', 'Page ' || (j % 5000))
              WHEN 'webmunk-extension-element-show' THEN jsonb_build_object('element-class', 'webmunk-asin-item')
              WHEN 'webmunk-extension-element-hide' THEN jsonb_build_object('element-class', 'webmunk-asin-item')
              ELSE jsonb_build_object('tab-id', j / 40)
            END AS properties
  FROM points p
),
inserted AS (
  INSERT INTO data_points (source, generator_id, generator, secondary_identifier, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
  SELECT source, generator_id, generator_id || ': ' || user_agent,
         CASE generator_id WHEN 'webmunk-amazon-order' THEN properties ->> 'order-number'
                           WHEN 'webmunk-extension-element-show' THEN 'webmunk-asin-item' WHEN 'webmunk-extension-element-hide' THEN 'webmunk-asin-item' END,
         user_agent, created, 'timestamp', recorded,
         -- one bundle per participant and minute of processing
         (extract(epoch FROM recorded)::bigint / 60) * 10000 + i, dcs_point_digest(properties), properties
  FROM shaped
  ORDER BY recorded, i, created
  RETURNING source, created, recorded, user_agent
)
INSERT INTO data_sources AS s (source, first_seen, latest_point_created, latest_point_recorded, latest_user_agent, point_count)
SELECT source, min(recorded), max(created), max(recorded), min(user_agent), count(*)
FROM inserted GROUP BY source
ORDER BY source
ON CONFLICT (source) DO UPDATE SET
  latest_point_created = greatest(s.latest_point_created, excluded.latest_point_created),
  latest_point_recorded = excluded.latest_point_recorded,
  latest_user_agent = excluded.latest_user_agent,
  point_count = s.point_count + excluded.point_count`;

/** Names and definitions of data_points' indexes (the unique key's included), as migrated. */
async function indexDefinitions(db: pg.Client): Promise<{ name: string; definition: string; constraint: boolean }[]> {
  const { rows } = await db.query(`
    SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, c.conname IS NOT NULL AS constraint, c.conname,
           pg_get_constraintdef(c.oid) AS constraint_definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
    WHERE x.indrelid = 'data_points'::regclass
    ORDER BY i.relname`);
  return rows.map((r) => ({
    name: r.name,
    constraint: r.constraint,
    definition: r.constraint ? `ALTER TABLE data_points ADD CONSTRAINT ${r.conname} ${r.constraint_definition}` : r.definition,
  }));
}

/** Builds the study into an empty, migrated database; returns the seconds each phase took. */
export async function buildStudy(db: pg.Client, sources: number, points: number, progress: (line: string) => void): Promise<void> {
  const { rows: existing } = await db.query('SELECT count(*)::int AS n FROM (SELECT 1 FROM data_points LIMIT 1) AS first_point');
  if (existing[0].n > 0) throw new Error('data_points is not empty');
  const indexes = await indexDefinitions(db);
  await db.query(`SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'; SET synchronous_commit = off`);
  await db.query('ALTER TABLE data_points SET (autovacuum_enabled = false)');
  for (const index of indexes) {
    await db.query(index.constraint ? `ALTER TABLE data_points DROP CONSTRAINT ${index.name}` : `DROP INDEX ${index.name}`);
  }
  await db.query(sourcesSql(sources, points));
  const { rows: ends } = await db.query(`SELECT date_trunc('minute', now()) AS end`);
  const started = performance.now();
  let stored = 0;
  for (let day = 0; day < STUDY_DAYS; day++) {
    await db.query(DAY_SQL, [day, ends[0].end]);
    const { rows } = await db.query('SELECT sum(point_count)::int8 AS n FROM data_sources');
    stored = Number(rows[0].n);
    const seconds = (performance.now() - started) / 1000;
    progress(`day ${day + 1}/${STUDY_DAYS}: ${int(stored)} points, ${seconds.toFixed(0)} s`);
  }
  if (stored !== points) throw new Error(`stored ${stored} points, expected ${points}`);
  for (const index of indexes) {
    const indexStarted = performance.now();
    await db.query(index.definition);
    progress(`${index.name}: ${((performance.now() - indexStarted) / 1000).toFixed(0)} s`);
  }
  await db.query('ALTER TABLE data_points RESET (autovacuum_enabled)');
  const vacuumStarted = performance.now();
  await db.query('VACUUM (ANALYZE) data_points, data_sources');
  await db.query('CHECKPOINT');
  progress(`vacuum analyze: ${((performance.now() - vacuumStarted) / 1000).toFixed(0)} s`);
  await db.query('DROP TABLE bench_sources');
}
