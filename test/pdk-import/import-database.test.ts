/**
 * `dcs import-pdk --database`, through the real CLI, from a PostgreSQL database laid out and
 * filled as an original server leaves it (original-server.ts): the points come out equal row for
 * row, the bundles it had not processed are processed here, sources, groups, suppression and
 * Keepa metadata carry over, the report counts both sides and names every point not imported,
 * and running it again changes nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCKS, lockSession } from '../../src/db/advisory-lock.ts';
import { pointsAfter } from '../../src/pdk-import/database-points.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { fillOriginal, KEY_ENV, PENDING, PENDING_SOURCE, type OriginalContents } from './original-server.ts';

let original: TestDatabase;
let contents: OriginalContents;

beforeAll(async () => {
  original = await createTestDatabase({ empty: true });
  contents = await fillOriginal(original.pool);
});
afterAll(async () => original?.drop());

const micros = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;

/** The original's points, as rows to compare with ours (the ones that cannot be imported left out). */
async function originalRows() {
  const { rows } = await original.pool.query(
    `SELECT source, generator_identifier AS generator_id, ${micros('created')} AS created, ${micros('recorded')} AS recorded, properties
     FROM passive_data_kit_datapoint WHERE NOT (id = ANY($1::int[])) ORDER BY 3, 1, 2, properties::text`,
    [contents.badPoints.map((p) => p.id)],
  );
  return rows;
}

async function importedRows(db: TestDatabase) {
  const { rows } = await db.pool.query(
    `SELECT p.source, p.generator_id, ${micros('p.created')} AS created, ${micros('p.recorded')} AS recorded, p.properties
     FROM data_points p JOIN bundles b ON b.id = p.bundle_id WHERE b.transport = 'pdk-import' ORDER BY 3, 1, 2, p.properties::text`,
  );
  return rows;
}

async function totals(db: TestDatabase) {
  const { rows: [row] } = await db.pool.query(
    `SELECT (SELECT count(*)::int FROM bundles) AS bundles, (SELECT count(*)::int FROM data_points) AS points,
            (SELECT count(*)::int FROM data_sources) AS sources, (SELECT count(*)::int FROM amazon_products) AS products`,
  );
  return row;
}

const importPdk = (db: TestDatabase, ...extra: string[]) =>
  runDcs(['import-pdk', '--database', original.url, ...extra], { databaseUrl: db.url, env: KEY_ENV });

/** The report's line for a source and data type: original, stored here, difference. */
function reportLine(stdout: string, source: string, generatorId: string): number[] | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(`${source}\t${generatorId}\t`));
  return line?.split('\t').slice(2).map(Number);
}

describe('dcs import-pdk --database', () => {
  let ours: TestDatabase;
  beforeAll(async () => {
    ours = await createTestDatabase();
    // A product this server enriched after the original did: the import must leave it alone.
    await ours.pool.query(
      `INSERT INTO amazon_products (asin, first_seen, last_seen, keepa_state, enriched_at, metadata, title)
       VALUES ('B07FZ8S74R', now(), now(), 'enriched', now(), '{"keepa": [{"title": "Newer copy"}]}', 'Newer copy')`,
    );
  });
  afterAll(async () => ours?.drop());

  it('imports the points row for row, processes the pending bundles, reports, and changes nothing when run again', async () => {
    const first = await importPdk(ours);
    expect(first.stderr).toMatch(/points: 51 read this run \(51 in all\), \d+ bundles written \(0 stored before\)/);
    expect(first.stderr).toContain('bundles the original had not processed: 5 (0 stored before)');
    // Failures: exit code 1, every one named with its reason.
    expect(first.code).toBe(1);
    for (const bad of contents.badPoints) expect(first.stdout).toContain(`  point ${bad.id}: ${bad.reason}`);
    expect(first.stdout).toMatch(new RegExp(`  bundle ${contents.unparsedBundleId}: could not be processed \\(nor by the original\\): .*invalid JSON`));
    expect(first.stdout).toContain('3 points could not be imported:');

    // Row for row: source, type, created and recorded to the microsecond, properties (with the original's encrypted_transmission).
    const expected = await originalRows();
    expect(expected).toHaveLength(SAMPLES.length);
    expect(await importedRows(ours)).toEqual(expected);

    // The pending bundles' points, processed here: encrypted_transmission as the original would have set it.
    const { rows: pending } = await ours.pool.query(
      `SELECT properties -> 'passive-data-metadata' ->> 'timestamp' AS ts, (properties -> 'passive-data-metadata' ->> 'encrypted_transmission')::boolean AS enc, created_from
       FROM data_points WHERE source = $1 ORDER BY created`,
      [PENDING_SOURCE],
    );
    const all = [...PENDING.plain, ...PENDING.gzip, ...PENDING.encrypted, ...PENDING.errored];
    expect(pending).toHaveLength(all.length);
    expect(pending.filter((p) => p.enc).length).toBe(PENDING.encrypted.length);
    expect(pending.find((p) => p.ts === null)?.created_from).toBe('date');

    // The report: the original's counts per source and type, ours, the difference.
    expect(first.stdout.split('\n')[0]).toBe('source\tdata type\toriginal\tstored here\tdifference');
    expect(reportLine(first.stdout, 'bric-0a93f1', 'pdk-app-event')).toEqual([
      SAMPLES.filter((s) => s['passive-data-metadata']!.source === 'bric-0a93f1' && s['passive-data-metadata']!['generator-id'] === 'pdk-app-event').length + 2,
      SAMPLES.filter((s) => s['passive-data-metadata']!.source === 'bric-0a93f1' && s['passive-data-metadata']!['generator-id'] === 'pdk-app-event').length,
      -2,
    ]);
    const pendingTypes = new Map<string, number>();
    for (const p of all) pendingTypes.set(p['passive-data-metadata']!['generator-id'] as string, (pendingTypes.get(p['passive-data-metadata']!['generator-id'] as string) ?? 0) + 1);
    for (const [type, n] of pendingTypes) expect(reportLine(first.stdout, PENDING_SOURCE, type)).toEqual([n, n, 0]);
    expect(first.stdout).toContain('Note: bundle ');
    expect(first.stdout).toMatch(/has 1 attached files .* were not imported/);

    // Sources, groups and suppression.
    const { rows: sources } = await ours.pool.query(
      `SELECT s.source, s.name, g.name AS group, s.suppress_alerts, g.suppress_alerts AS group_suppressed
       FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id ORDER BY s.source`,
    );
    const named = (source: string) => sources.find((s) => s.source === source);
    const ids = [...new Set(SAMPLES.map((s) => s['passive-data-metadata']!.source as string))];
    expect(named(ids[0])).toMatchObject({ name: 'Participant one', group: 'Wave 1', suppress_alerts: false });
    expect(named(ids[1])).toMatchObject({ name: null, group: 'Wave 1', suppress_alerts: true });
    expect(named(ids[2])).toMatchObject({ name: null, group: 'Pilot', group_suppressed: true });
    const { rows: groups } = await ours.pool.query('SELECT name, suppress_alerts FROM source_groups ORDER BY name');
    expect(groups).toEqual([{ name: 'Pilot', suppress_alerts: true }, { name: 'Wave 1', suppress_alerts: false }]);

    // Keepa metadata: the enriched item (NaN as null, fields derived), not the cursor row, not over a newer copy.
    const { rows: products } = await ours.pool.query('SELECT asin, keepa_state, title, category_tree, metadata FROM amazon_products ORDER BY asin');
    expect(products.map((p) => p.asin)).toEqual(['B07FZ8S74R', 'B08N5WRWNW']);
    expect(products[0].title).toBe('Newer copy');
    expect(products[1]).toMatchObject({ keepa_state: 'enriched', title: 'Echo Dot (4th Gen)', category_tree: 'Electronics > Smart Home' });
    expect(products[1].metadata.keepa[0].data.NEW).toEqual([49.99, null]);

    // Again: nothing new, the same report.
    const before = await totals(ours);
    const second = await importPdk(ours);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/points: continued after point \d+/);
    expect(second.stderr).toContain('points: 0 read this run (51 in all)');
    expect(second.stderr).toContain('bundles the original had not processed: 5 (5 stored before)');
    expect(await totals(ours)).toEqual(before);
    expect(second.stdout).toBe(first.stdout);

    // From the start: every point read again, still nothing new.
    const third = await importPdk(ours, '--from-start');
    expect(third.stderr).toMatch(/points: 51 read this run \(51 in all\), (\d+) bundles written \(\1 stored before\)/);
    expect(await totals(ours)).toEqual(before);
    expect(await importedRows(ours)).toEqual(expected);
  });

  it('continues after the saved position, and reads everything again with --from-start', async () => {
    const db = await createTestDatabase();
    try {
      // As if an earlier run had stopped after the 20th point in the original's order.
      const { rows: order } = await original.pool.query(
        `SELECT id, to_char(recorded, 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS recorded FROM passive_data_kit_datapoint ORDER BY recorded, id`,
      );
      await db.pool.query(
        `INSERT INTO pdk_import_progress (origin, last_recorded, last_point_id, points_read) VALUES ($1, $2, $3, 20)`,
        [`database:127.0.0.1/${new URL(original.url).pathname.slice(1)}`, order[19].recorded, order[19].id],
      );
      const resumed = await importPdk(db);
      expect(resumed.stderr).toContain(`points: continued after point ${order[19].id}`);
      expect(resumed.stderr).toContain(`points: ${order.length - 20} read this run (${order.length} in all)`);
      const { rows: [{ n }] } = await db.pool.query(`SELECT count(*)::int AS n FROM data_points p JOIN bundles b ON b.id = p.bundle_id WHERE b.transport = 'pdk-import'`);
      expect(n).toBe(order.length - 20 - contents.badPoints.length);

      const all = await importPdk(db, '--from-start');
      expect(all.stderr).toContain(`points: ${order.length} read this run (${order.length} in all)`);
      expect(await importedRows(db)).toEqual(await originalRows());
    } finally {
      await db.drop();
    }
  });

  it('refuses to run while another import of the same original runs', async () => {
    const db = await createTestDatabase();
    const holder = await db.pool.connect();
    try {
      const origin = `database:127.0.0.1/${new URL(original.url).pathname.slice(1)}`;
      await lockSession(holder, LOCKS.pdkImport(origin));
      const run = await importPdk(db);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`import failed: another dcs import-pdk of ${origin} is running`);
      const { rows: [{ n }] } = await db.pool.query('SELECT count(*)::int AS n FROM bundles');
      expect(n).toBe(0);
    } finally {
      holder.release();
      await db.drop();
    }
  });

  it('reads an original whose JSON columns are text (A after its migration 0100), and exits 0 once everything it reads can be imported', async () => {
    const clean = await createTestDatabase({ empty: true });
    const db = await createTestDatabase();
    try {
      const filled = await fillOriginal(clean.pool);
      await clean.pool.query('DELETE FROM passive_data_kit_datapoint WHERE id = ANY($1::int[])', [filled.badPoints.map((p) => p.id)]);
      await clean.pool.query('DELETE FROM passive_data_kit_databundle WHERE id = $1', [filled.unparsedBundleId]);
      // As A writes text JSON fields: json.dumps with indent 2.
      for (const table of ['passive_data_kit_datapoint', 'passive_data_kit_databundle']) {
        await clean.pool.query(`ALTER TABLE ${table} ALTER COLUMN properties TYPE text USING jsonb_pretty(properties)`);
      }
      const run = await runDcs(['import-pdk', '--database', clean.url], { databaseUrl: db.url, env: KEY_ENV });
      expect(run.stdout).toContain('Every point read was imported.');
      expect(run.stdout).toMatch(/\ntotal\t\t(\d+)\t\1\t0\n/);
      expect(run.code).toBe(0);
      const { rows: expected } = await clean.pool.query(
        `SELECT source, generator_identifier AS generator_id, ${micros('created')} AS created, ${micros('recorded')} AS recorded, properties::jsonb AS properties
         FROM passive_data_kit_datapoint ORDER BY 3, 1, 2, properties::jsonb::text`,
      );
      expect(await importedRows(db)).toEqual(expected);
    } finally {
      await db.drop();
      await clean.drop();
    }
  });
});

describe('pages of the original\'s points', () => {
  it('gives every point once, in (recorded, id) order, whatever the page size and however large a group of one recorded time', async () => {
    const client = new pg.Client({ connectionString: original.url });
    await client.connect();
    try {
      await client.query(`SET TIME ZONE 'UTC'`);
      const { rows: expected } = await client.query(`SELECT id FROM passive_data_kit_datapoint ORDER BY recorded, id`);
      for (const pageSize of [1, 2, 3, 5, 8, 13, 100]) {
        const seen: number[] = [];
        for await (const page of pointsAfter(client, { recorded: '-infinity', id: -1 }, pageSize)) {
          expect(page.length).toBeLessThanOrEqual(pageSize);
          seen.push(...page.map((p) => p.id));
        }
        expect(seen, `page size ${pageSize}`).toEqual(expected.map((r) => r.id));
      }
    } finally {
      await client.end();
    }
  });
});
