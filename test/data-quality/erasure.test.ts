/**
 * Erasure of a withdrawn participant (data-quality/erasure.ts): no row of the source left in any
 * table, checked table by table from the catalog; later uploads stored nowhere; re-admission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseSource, readmitSource } from '../../src/data-quality/erasure.ts';
import { SOURCE_TABLES } from '../../src/data-quality/erasure.repository.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { extensionPoint } from '../helpers/pdk-client.ts';
import type { Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runOk } from '../monitoring/support.ts';

const GONE = 'withdrawn-01';
const STAYS = 'participant-02';

/**
 * Every table with a column that may hold a participant's identifier, and why erasure leaves it:
 * a new table with such a column fails the test until it is erased (SOURCE_TABLES) or listed here.
 */
const NOT_A_PARTICIPANT: Record<string, string> = {
  'data_types.identifier': 'a data type',
  'donation_sources.identifier': 'a donation source (amazon, chatgpt)',
  'donation_files.source': 'a donation source (the files go with their request)',
  'donation_request_sources.source': 'a donation source (the rows go with their request)',
};
const KEPT_ON_PURPOSE: Record<string, string> = {
  'erased_sources.identifier': 'the erased list itself',
  'source_erasures.identifier': 'the audit entry (counts, never data)',
  'report_jobs.sources': 'the selection of a past export request (its archive is outside the database)',
  'exclusion_rules.source': 'a rule the team made about the identifier (its decision and reason, no data of the participant; once erased, the rule matches nothing)',
};
/** Tables erasure handles apart from SOURCE_TABLES (erasure.repository.ts). */
const HANDLED_APART = ['data_points.source', 'bundles.identifier', 'bundles.sources'];

/** Columns named like a participant's identifier, from the catalog: `table.column` → is it an array. */
async function identifierColumns(server: TestServer): Promise<Map<string, boolean>> {
  const { rows } = await server.db.pool.query<{ name: string; is_array: boolean }>(
    `SELECT c.table_name || '.' || c.column_name AS name, c.data_type = 'ARRAY' AS is_array
       FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        -- partitions (data_points' months) are covered through their parent
        AND to_regclass(c.table_name::text) NOT IN (SELECT inhrelid FROM pg_inherits)
        AND c.column_name IN ('source', 'sources', 'identifier', 'identifiers', 'participant')
        AND (c.data_type IN ('text', 'character varying') OR c.udt_name IN ('_text', '_varchar'))
      ORDER BY 1`,
  );
  return new Map(rows.map((r) => [r.name, r.is_array]));
}

/** Rows holding `identifier`, per `table.column`, for every column of the catalog (none skipped). */
async function rowsHolding(server: TestServer, identifier: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, isArray] of await identifierColumns(server)) {
    const [table, column] = name.split('.');
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${isArray ? `$1 = ANY(${column})` : `${column} = $1`}`, [identifier]);
    if (rows[0].n > 0) out[name] = rows[0].n;
  }
  return out;
}

async function upload(server: TestServer, points: Point[], identifier?: string): Promise<Response> {
  return fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(identifier ? { 'x-pdk-identifier': identifier } : {}) },
    body: new URLSearchParams({ payload: JSON.stringify(points) }).toString(),
  });
}

const pointsOf = (source: string, count: number, from: number) =>
  Array.from({ length: count }, (_, i) => extensionPoint(source, 'webmunk-page-visit', from + i, { url: `https://example.org/${source}/${i}` }));

const count = async (server: TestServer, sql: string, params: unknown[] = []) => Number((await server.db.pool.query(sql, params)).rows[0].n);

/** A participant with a row in every table that can hold one. */
async function populate(server: TestServer, source: string, from: number): Promise<void> {
  expect((await upload(server, pointsOf(source, 5, from), source)).status).toBe(201);
  const pool = server.db.pool;
  await pool.query(`INSERT INTO app_configurations (name, id_pattern, document, updated_by) VALUES ($1, '.*', '{}', 'test') ON CONFLICT DO NOTHING`, [`config-${source}`]);
  const config = `(SELECT id FROM app_configurations WHERE name = 'config-${source}')`;
  await pool.query(`INSERT INTO app_config_assignments (identifier, configuration_id, assigned_by) VALUES ($1, ${config}, 'test')`, [source]);
  await pool.query(`INSERT INTO app_config_draws (identifier, id_pattern, configuration_id) VALUES ($1, '.*', ${config})`, [source]);
  await pool.query(`INSERT INTO app_config_served (identifier, configuration_id, version, chosen_by) VALUES ($1, ${config}, 1, 'assigned')`, [source]);
  await pool.query(`INSERT INTO source_latest_status VALUES ($1, now(), gen_random_uuid(), '{"pending-points": 3}')`, [source]);
  await pool.query(`INSERT INTO amazon_product_sightings VALUES ('B000000001', $1, 'webmunk-page-visit', now(), now(), 2, false)`, [source]);
  await pool.query(`INSERT INTO harvest_queue (source, created, content_digest) VALUES ($1, now(), gen_random_uuid())`, [source]);
  await pool.query(`INSERT INTO amazon_harvested_points (source, created, content_digest) VALUES ($1, now(), gen_random_uuid())`, [source]);
  const request = await pool.query(`INSERT INTO donation_requests (identifier) VALUES ($1) RETURNING id`, [source]);
  await pool.query(`INSERT INTO donation_request_sources VALUES ($1, 'amazon')`, [request.rows[0].id]);
  const file = await pool.query(`INSERT INTO donation_files (request_id, source, name) VALUES ($1, 'amazon', 'orders.zip') RETURNING id`, [request.rows[0].id]);
  await pool.query(`INSERT INTO donation_file_chunks VALUES ($1, 0, '\\x00')`, [file.rows[0].id]);
}

describe('erasing a withdrawn participant', () => {
  let server: TestServer;
  let mixedBundle: number;
  beforeAll(async () => {
    server = await startTestServer();
    await populate(server, GONE, 1_780_000_000);
    await populate(server, STAYS, 1_780_000_100);
    // an old client batching two identifiers in one bundle, without the header
    expect((await upload(server, [...pointsOf(GONE, 2, 1_780_000_200), ...pointsOf(STAYS, 3, 1_780_000_300)])).status).toBe(201);
    mixedBundle = Number((await server.db.pool.query('SELECT max(id) AS id FROM bundles')).rows[0].id);
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    // points processed since the statistics job ran: still in source_point_deltas
    expect((await upload(server, pointsOf(GONE, 1, 1_780_000_350), GONE)).status).toBe(201);
    await server.process();
    await server.db.pool.query(`INSERT INTO alerts (source, check_id, name, level, details) VALUES ($1, 'upload-overdue', 'No upload', 'warning', '{}')`, [GONE]);
    await server.db.pool.query(`INSERT INTO data_quality_flags (source, kind, evidence_count, first_seen, last_seen, examples) VALUES ($1, 'clock-skew', 1, now(), now(), '[{"user_agent": "x"}]')`, [GONE]);
    // a pending upload of the source, not processed yet
    expect((await upload(server, pointsOf(GONE, 1, 1_780_000_400), GONE)).status).toBe(201);
  });
  afterAll(async () => server?.stop());

  it('covers every table of the catalog with a column holding an identifier', async () => {
    const covered = new Set([...SOURCE_TABLES.map((t) => `${t.table}.${t.column}`), ...HANDLED_APART, ...Object.keys(NOT_A_PARTICIPANT), ...Object.keys(KEPT_ON_PURPOSE)]);
    const columns = [...(await identifierColumns(server)).keys()];
    expect(columns.filter((c) => !covered.has(c))).toEqual([]);
    // the list is not stale either
    expect([...covered].filter((c) => !columns.includes(c))).toEqual([]);
  });

  it('starts with the source in every table erasure covers', async () => {
    const before = await rowsHolding(server, GONE);
    expect(SOURCE_TABLES.filter(({ table, column }) => !before[`${table}.${column}`]).map((t) => t.table)).toEqual([]);
    expect(before['data_points.source']).toBe(8);
    expect(before['bundles.identifier']).toBe(3);
    expect(before['bundles.sources']).toBe(3);
  });

  it('leaves no row of the source in any table but the list and the audit, and keeps the others\' rows', async () => {
    const staysBefore = await rowsHolding(server, STAYS);
    const backups = await server.db.pool.query(`INSERT INTO backup_runs (name, destinations, state, finished_at) VALUES ('2026-12-01T000000Z', '{folder}', 'succeeded', now()) RETURNING name`);
    const report = await eraseSource(server.db.pool, GONE, 'cli:tester');

    expect(await rowsHolding(server, GONE)).toEqual({ 'erased_sources.identifier': 1, 'source_erasures.identifier': 1 });
    expect(await rowsHolding(server, STAYS)).toEqual(staysBefore);
    expect(report.counts).toMatchObject({ data_points: 8, bundles: 3, bundles_detached: 1, donation_requests: 1, donation_files: 1, data_sources: 1, alerts: 1 });
    expect(await count(server, 'SELECT count(*) AS n FROM donation_file_chunks')).toBe(1); // the other participant's
    expect(await count(server, 'SELECT count(*) AS n FROM backup_queue WHERE bundle_id NOT IN (SELECT id FROM bundles)')).toBe(0);
    // the mixed bundle is kept, without the source, and listed in the audit
    expect(report.mixedBundles).toEqual([mixedBundle]);
    expect((await server.db.pool.query('SELECT sources FROM bundles WHERE id = $1', [mixedBundle])).rows[0].sources).toEqual([STAYS]);
    const audit = (await server.db.pool.query('SELECT * FROM source_erasures')).rows;
    expect(audit).toMatchObject([{ identifier: GONE, action: 'erase', done_by: 'cli:tester', counts: report.counts, backups_before: [{ name: backups.rows[0].name, destinations: ['folder'] }] }]);
  });

  it('stores nothing of a later upload from the identifier, answering it 201 with JSON so the client drops it', async () => {
    const bundlesBefore = await count(server, 'SELECT count(*) AS n FROM bundles');
    const response = await upload(server, pointsOf(GONE, 3, 1_780_001_000), GONE);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ added: true });
    expect(await count(server, 'SELECT count(*) AS n FROM bundles')).toBe(bundlesBefore);
    expect(await rowsHolding(server, GONE)).toEqual({ 'erased_sources.identifier': 1, 'source_erasures.identifier': 1 });
  });

  it('drops its points in processing, counted as rejections \'erased source\' (a bundle without the header)', async () => {
    expect((await upload(server, [...pointsOf(GONE, 2, 1_780_002_000), ...pointsOf(STAYS, 1, 1_780_002_100)])).status).toBe(201);
    const result = await server.process();
    expect(result).toMatchObject({ bundles: 1, added: 1, rejected: 2 });
    const { rows } = await server.db.pool.query(`SELECT rejections, sources FROM bundles ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toEqual({ rejections: { 'erased source': 2 }, sources: [STAYS] });
    expect(await count(server, 'SELECT count(*) AS n FROM data_points WHERE source = $1', [GONE])).toBe(0);
  });

  it('re-admits the identifier: its uploads are stored again, and the audit says who did it', async () => {
    expect(await readmitSource(server.db.pool, GONE, 'admin')).toBe(true);
    expect(await readmitSource(server.db.pool, GONE, 'admin')).toBe(false);
    expect((await upload(server, pointsOf(GONE, 2, 1_780_003_000), GONE)).status).toBe(201);
    await server.process();
    expect(await count(server, 'SELECT count(*) AS n FROM data_points WHERE source = $1', [GONE])).toBe(2);
    const audit = (await server.db.pool.query('SELECT action, done_by FROM source_erasures ORDER BY id')).rows;
    expect(audit).toEqual([{ action: 'erase', done_by: 'cli:tester' }, { action: 'readmit', done_by: 'admin' }]);
  });

  it('waits for a processing batch in flight and then erases what it stored', async () => {
    // A transaction holding data_points as a processing batch does: the erasure waits for it.
    const client = await server.db.pool.connect();
    await client.query('BEGIN; LOCK TABLE data_points IN ROW EXCLUSIVE MODE');
    let erased = false;
    const erasing = eraseSource(server.db.pool, GONE, 'cli:tester').then(() => { erased = true; });
    // the erasure is queued behind the batch's lock (seen in pg_locks, not guessed from a delay)
    await expect.poll(() => count(server, `SELECT count(*) AS n FROM pg_locks WHERE relation = 'data_points'::regclass AND NOT granted`)).toBe(1);
    expect(erased).toBe(false);
    await client.query(`INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, properties, content_digest)
      VALUES ($1, 'x', 'x', 'x', now(), 'date', now(), 0, '{}', gen_random_uuid())`, [GONE]);
    await client.query('COMMIT');
    client.release();
    await erasing;
    expect(await count(server, 'SELECT count(*) AS n FROM data_points WHERE source = $1', [GONE])).toBe(0);
  });
});
