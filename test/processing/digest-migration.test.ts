/**
 * Migration 0009 on a database that processing filled the former way (identity (created,
 * content_hash), content_hash = jsonb_hash_extended, so a point differing from a stored one only
 * in signs was dropped): uploads go on while processing and the harvest wait; every stored point
 * then gets the digest Node computes for it; the unique key, the file links and the harvested
 * points move to the digest; and `dcs reprocess` brings back the dropped point, which the harvest
 * then counts, without duplicating any other point or count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import { LOCKS, lockSession, unlockSession } from '../../src/db/advisory-lock.ts';
import { completePointDigests, pointDigestsReady } from '../../src/db/point-digests.ts';
import { createLogger } from '../../src/log.ts';
import { digestOf, printJsonb } from '../../src/processing/content-digest.ts';
import { processBatch } from '../../src/processing/process-bundles.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, count, createJson, realCounts, recordedCounts, withSource } from './support.ts';

let db: TestDatabase;
let server: TestServer;
const log = createLogger('silent');

const show = withSource(samples(2), 'mig-a')[0]; // an element-show with an ASIN
const at = (offset: { top: number; left: number }): Point => ({ ...structuredClone(show), offset });
const positive = at({ top: 1.5, left: 2 });
const negative = at({ top: -1.5, left: -2 }); // the same `created`: the former key merged it
const [other] = withSource(samples(7), 'mig-a');
const [withFile] = withSource(samples(4), 'mig-b');
withFile['screenshot@'] = 'shot';
const [fresh] = withSource(samples(8), 'mig-c');
/** Bundle texts: the second re-sends `other` (a true duplicate) with its keys in another order. */
const BUNDLES = [
  JSON.stringify([positive, other, withFile]),
  `[${JSON.stringify(negative)}, ${JSON.stringify(Object.fromEntries(Object.entries(other).reverse()))}]`,
];
const SENT = [positive, other, withFile, negative];

/** What processing did before this change, in SQL: the former key, and ON CONFLICT as its drop. */
async function storeTheFormerWay(pool: TestDatabase['pool']): Promise<void> {
  for (const [i, text] of BUNDLES.entries()) {
    const { rows } = await pool.query(`INSERT INTO bundles (endpoint, transport, body) VALUES ('bundle', 'create', convert_to($1, 'UTF8')) RETURNING id`, [text]);
    const id = rows[0].id;
    if (i === 0) await pool.query(`INSERT INTO bundle_files (bundle_id, field_name, size, content) VALUES ($1, 'shot', 3, '\\x010203')`, [id]);
    const stored = await pool.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_hash, properties)
       SELECT j #>> '{passive-data-metadata,source}', j #>> '{passive-data-metadata,generator-id}', j #>> '{passive-data-metadata,generator}', 'UA',
              dcs_epoch(j #> '{passive-data-metadata,timestamp}', 1), 'timestamp', now(), $2, jsonb_hash_extended(j, 0),
              jsonb_set(j, '{passive-data-metadata,encrypted_transmission}', 'false')
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(j, n) ORDER BY n
       ON CONFLICT (created, content_hash) DO NOTHING
       RETURNING source`,
      [text, id],
    );
    await pool.query(
      `UPDATE bundles SET status = 'processed', processed_at = now(), point_count = jsonb_array_length($2::jsonb), points_added = $3, points_rejected = 0,
         sources = ARRAY(SELECT DISTINCT e #>> '{passive-data-metadata,source}' FROM jsonb_array_elements($2::jsonb) e) WHERE id = $1`,
      [id, text, stored.rowCount],
    );
  }
  await pool.query(`INSERT INTO data_sources (source, first_seen, point_count) SELECT source, now(), count(*) FROM data_points GROUP BY source`);
  await pool.query(
    `INSERT INTO data_point_files (point_created, point_hash, file_id, key)
     SELECT p.created, p.content_hash, f.id, 'screenshot@' FROM data_points p, bundle_files f WHERE p.properties ? 'screenshot@'`,
  );
  // The harvest had counted the one stored element-show.
  await pool.query(
    `WITH p AS (SELECT created, content_hash FROM data_points WHERE generator_id = 'webmunk-extension-element-show')
     , h AS (INSERT INTO amazon_harvested_points (created, content_hash) SELECT created, content_hash FROM p)
     , s AS (INSERT INTO amazon_product_sightings (asin, source, generator_id, first_seen, last_seen, points, ordered)
             SELECT 'B0BXYZ1234', 'mig-a', 'webmunk-extension-element-show', created, created, 1, false FROM p)
     INSERT INTO amazon_products (asin, first_seen, last_seen, points, sources) SELECT 'B0BXYZ1234', created, created, 1, 1 FROM p`,
  );
  await pool.query(`UPDATE amazon_harvest_state SET last_point_id = (SELECT max(id) FROM data_points), points_scanned = 3`);
}

beforeAll(async () => {
  db = await createTestDatabase({ before: 9 });
  await storeTheFormerWay(db.pool);
  server = await startTestServer({}, { db }); // migrates: 0009 is applied, the digests are left to processing
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function identities(): Promise<{ created: string; digest: string; properties: Point }[]> {
  const { rows } = await db.pool.query(`SELECT created::text, replace(content_digest::text, '-', '') AS digest, properties FROM data_points ORDER BY id`);
  return rows;
}

/** Until some backend of this database waits for a lock (bounded: 10 s). */
async function waitForLockWait(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('nothing waited for the lock');
}

const nodeDigest = (point: Point) => digestOf(printJsonb(JSON.stringify(point), 0).jsonb!);
const sightings = async () => (await db.pool.query(`SELECT points::int FROM amazon_product_sightings WHERE asin = 'B0BXYZ1234'`)).rows[0].points;

describe('migration 0009 on points stored with the former key', () => {
  it('started from what the former key kept: the point differing only in signs was dropped', async () => {
    const { rows } = await db.pool.query(`SELECT properties -> 'offset' AS offset FROM data_points WHERE source = 'mig-a' AND properties ? 'offset'`);
    expect(rows).toEqual([{ offset: positive.offset }]);
    expect(await count(server, 'data_points')).toBe(3);
  });

  it('takes uploads while processing and the harvest wait for the digests', async () => {
    expect(await pointDigestsReady(db.pool)).toBe(false);
    expect(await count(server, 'data_points WHERE content_digest IS NULL')).toBe(3);
    const id = await createJson(server, JSON.stringify([fresh]));
    const holder = await db.pool.connect(); // another process computing them
    try {
      await lockSession(holder, LOCKS.pointDigests);
      const result = await processBatch({ pool: server.running.db.pool, config: server.config, log });
      expect(result).toMatchObject({ bundles: 0, points: 0 });
      expect((await bundle(server, id)).status).toBe('pending');
    } finally {
      await unlockSession(holder, LOCKS.pointDigests);
      holder.release();
    }
    expect((await harvestAsins(db.pool, server.config)).points).toBe(0);
    // A stopping worker leaves it for the next start, also while it waits for a lock (here the
    // one it takes to start, behind a write in progress: an older process's batch).
    expect(await completePointDigests(db.pool, log, { signal: AbortSignal.abort() })).toBe(false);
    expect(await count(server, 'data_points WHERE content_digest IS NULL')).toBe(3);
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN; LOCK TABLE data_points IN ROW EXCLUSIVE MODE');
      const stopping = new AbortController();
      const running = completePointDigests(db.pool, log, { signal: stopping.signal });
      await waitForLockWait();
      stopping.abort();
      expect(await running).toBe(false);
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
    expect(await count(server, 'data_points WHERE content_digest IS NULL')).toBe(3);
    expect((await db.pool.query('SELECT total_blocks, started_at FROM point_digest_backfill')).rows).toEqual([{ total_blocks: null, started_at: null }]);
  });

  it('gives every stored point the digest Node computes for it, moves the keys, then processes', async () => {
    const lines: string[] = [];
    expect(await completePointDigests(db.pool, log, { report: (line) => lines.push(line) })).toBe(true);
    expect(lines[0]).toMatch(/^content digests \(migration 0009\): computing them for the ~\d+ stored points; processing waits/);
    expect(lines.at(-1)).toMatch(/^content digests: done in \d+ s; every point is identified by \(source, created, content_digest\)$/);
    const stored = await identities();
    expect(stored.map((r) => r.digest)).toEqual([positive, other, withFile].map(nodeDigest));
    const { rows: bySql } = await db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE content_digest = dcs_point_digest(properties)`);
    expect(bySql[0].n).toBe(3);
    const { rows: key } = await db.pool.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'data_points_identity'`);
    expect(key).toEqual([{ def: 'UNIQUE (source, created, content_digest)' }]); // migration 0035's key, made in the same step
    const { rows: columns } = await db.pool.query(
      `SELECT table_name FROM information_schema.columns WHERE column_name IN ('content_hash', 'point_hash') AND table_schema = 'public'`,
    );
    expect(columns).toEqual([]);
    const { rows: links } = await db.pool.query(`SELECT replace(point_digest::text, '-', '') AS digest FROM data_point_files`);
    expect(links).toEqual([{ digest: nodeDigest(withFile) }]);
    const { rows: harvested } = await db.pool.query(`SELECT replace(content_digest::text, '-', '') AS digest FROM amazon_harvested_points`);
    expect(harvested).toEqual([{ digest: nodeDigest(positive) }]);

    await server.process(); // the upload that waited
    expect(await count(server, 'data_points')).toBe(4);
    expect(await pointDigestsReady(db.pool)).toBe(true);
  });

  it('dcs reprocess --duplicates brings back the dropped point and duplicates nothing; the harvest counts it once', async () => {
    const { rows: chosen } = await db.pool.query(`SELECT id FROM bundles WHERE points_added < point_count ORDER BY id`);
    expect(chosen).toHaveLength(1); // the bundle with the dropped point (and a true duplicate)
    expect(await queueReprocess(db.pool, { duplicates: true })).toBe(1);
    await server.process();
    const stored = await identities();
    expect(stored).toHaveLength(SENT.length + 1);
    expect(new Set(stored.map((r) => `${r.created} ${r.digest}`)).size).toBe(stored.length);
    expect(new Set(stored.map((r) => r.digest))).toEqual(new Set([...SENT, fresh].map(nodeDigest)));
    const offsets = stored.filter((r) => r.properties.offset).map((r) => r.properties.offset);
    expect(offsets).toEqual(expect.arrayContaining([positive.offset, negative.offset]));
    expect(await recordedCounts(server)).toEqual(await realCounts(server));
    const { rows } = await db.pool.query('SELECT sum(points_added)::int AS added FROM bundles');
    expect(rows[0].added).toBe(stored.length);
    const { rows: links } = await db.pool.query('SELECT count(*)::int AS n FROM data_point_files');
    expect(links[0].n).toBe(1);

    const harvest = await harvestAsins(db.pool, server.config);
    expect(harvest.sightings).toBe(1); // the restored point
    expect(await sightings()).toBe(2);

    // Reprocessing everything changes nothing more; the point harvested before the migration is
    // known by its digest, so its new row is not counted again.
    expect(await queueReprocess(db.pool, {})).toBe(3);
    await server.process();
    expect((await identities()).map((r) => `${r.created} ${r.digest}`).sort()).toEqual(stored.map((r) => `${r.created} ${r.digest}`).sort());
    expect(await recordedCounts(server)).toEqual(await realCounts(server));
    const again = await harvestAsins(db.pool, server.config);
    expect(again.points).toBe(3); // the points of page types, all with new ids
    expect(again.sightings).toBe(0);
    expect(await sightings()).toBe(2);
  });
});

describe('dcs migrate, then dcs reprocess --duplicates', () => {
  it('gives stored points their digests in the foreground, with its progress on stderr; then brings back the dropped point', async () => {
    const old = await createTestDatabase({ before: 9 });
    try {
      await storeTheFormerWay(old.pool);
      const result = await runDcs(['migrate'], { databaseUrl: old.url });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('database is up to date\n');
      expect(result.stderr).toMatch(/^content digests \(migration 0009\): computing them for the ~\d+ stored points; processing waits until this is done, uploads are stored meanwhile\ncontent digests: done in \d+ s; every point is identified by \(source, created, content_digest\)\n$/);
      expect(await pointDigestsReady(old.pool)).toBe(true);
      expect((await old.pool.query('SELECT count(*)::int AS n FROM data_points WHERE content_digest = dcs_point_digest(properties)')).rows[0].n).toBe(3);

      const reprocess = await runDcs(['reprocess', '--duplicates'], { databaseUrl: old.url });
      expect(reprocess.code, reprocess.stderr).toBe(0);
      expect(reprocess.stderr).toMatch(/^queued 1 bundles for reprocessing\n/);
      expect(reprocess.stdout).toMatch(/^processed 1 bundles, 1 points added \(2 seen, 0 rejected, 0 failed\)/);
      const { rows } = await old.pool.query(`SELECT properties -> 'offset' AS offset FROM data_points WHERE source = 'mig-a' AND properties ? 'offset' ORDER BY id`);
      expect(rows).toEqual([{ offset: positive.offset }, { offset: negative.offset }]);
    } finally {
      await old.drop();
    }
  });
});
