/**
 * The ASIN harvest (webmunk-server.md §4.1, rebuilt): scans new data points in id order from
 * the stored position, finds the ASINs in their orders, links and markup (extract-asins.ts), and
 * counts every (product, point) pair once, so re-runs and `dcs reprocess` change nothing.
 */
import type { Config } from '../config.ts';
import { streamBinaryRows } from '../db/copy-binary.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { ASIN_TYPES, extractAsins } from './extract-asins.ts';
import { recordSightings, type PointSightings } from './products.repository.ts';

/** The text fields extract-asins.ts reads at the top of a point. */
const TEXT_FIELDS = ['url*', 'url!', 'url', 'element-content*', 'element-content!', 'page-content*', 'page-content!'] as const;

/** Ids scanned per transaction: the position moves after each. */
const CHUNK_IDS = 5_000;

export interface HarvestResult {
  points: number;
  sightings: number;
  newProducts: number;
  rejected: number;
}

/**
 * The highest id below which no transaction can still add a point: the SHARE lock waits for the
 * writers in progress (processing batches, a few hundred ms) and holds new ones back a moment.
 */
async function committedMaxId(pool: Pool): Promise<number> {
  return withTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    await client.query('LOCK TABLE data_points IN SHARE MODE');
    const { rows } = await client.query('SELECT coalesce(max(id), 0) AS max FROM data_points');
    return Number(rows[0].max);
  });
}

export async function harvestAsins(pool: Pool, config: Pick<Config, 'serverSecretKey'>): Promise<HarvestResult> {
  const total: HarvestResult = { points: 0, sightings: 0, newProducts: 0, rejected: 0 };
  const { rows } = await pool.query('SELECT last_point_id FROM amazon_harvest_state');
  let position = Number(rows[0].last_point_id);
  const end = await committedMaxId(pool);
  // A chunk's write overlaps the next chunk's scan (PostgreSQL and this process each have a
  // core); writes stay in order, each with the position it reaches.
  let writing: Promise<void> = Promise.resolve();
  while (position < end) {
    const upTo = Math.min(end, position + CHUNK_IDS);
    const scanned = await scanRange(pool, config, position, upTo);
    total.points += scanned.points;
    total.rejected += scanned.rejected;
    await writing;
    writing = recordRange(pool, scanned, upTo).then((written) => {
      total.sightings += written.sightings;
      total.newProducts += written.newProducts;
    });
    writing.catch(() => undefined); // awaited below or in the next round
    position = upTo;
  }
  await writing;
  return total;
}

interface Scanned {
  found: PointSightings[];
  points: number;
  rejected: number;
}

async function scanRange(pool: Pool, config: Pick<Config, 'serverSecretKey'>, after: number, upTo: number): Promise<Scanned> {
  const found: PointSightings[] = [];
  let points = 0;
  let rejected = 0;
  const client = await pool.connect();
  let finished = false;
  try {
    const types = ASIN_TYPES.map((t) => client.escapeLiteral(t)).join(',');
    // Only the fields extract-asins.ts reads, the text ones unescaped by PostgreSQL: a click's
    // page-content* is a whole page, and JSON-parsing it here was the harvest's largest cost.
    // `properties || '{}'` (behind OFFSET 0) fetches a large point from TOAST storage once rather
    // than once per field: half PostgreSQL's work for the scan (4.4 s -> 2.7 s of CPU on 300,000
    // points), though not the harvest's time, which this process sets.
    const fields = TEXT_FIELDS.map((key) => `p->>${client.escapeLiteral(key)}`).join(', ');
    const sql = `SELECT source, generator_id, created::text, created_us, content_hash,
        ${fields}, p->'pattern-matches', p->'items', p#>>'{passive-data-metadata,generated-key}'
      FROM (SELECT source, generator_id, created, (extract(epoch FROM created) * 1000000)::int8 AS created_us, content_hash,
                   properties || '{}'::jsonb AS p
            FROM data_points
            WHERE id > ${Number(after)} AND id <= ${Number(upTo)} AND generator_id IN (${types})
            OFFSET 0) points`;
    for await (const row of streamBinaryRows(client, sql)) {
      const [source, generatorId, created, createdMicros, hash] = row;
      points += 1;
      const generator = generatorId!.toString('utf8');
      const properties: Record<string, unknown> = {};
      TEXT_FIELDS.forEach((key, i) => {
        const value = row[5 + i];
        if (value !== null) properties[key] = value.toString('utf8');
      });
      const [patternMatches, items, generatedKey] = row.slice(5 + TEXT_FIELDS.length);
      // binary jsonb: a version byte, then the JSON text
      if (patternMatches !== null) properties['pattern-matches'] = JSON.parse(patternMatches.toString('utf8', 1));
      if (items !== null) properties.items = JSON.parse(items.toString('utf8', 1));
      if (generatedKey !== null) properties['passive-data-metadata'] = { 'generated-key': generatedKey.toString('utf8') };
      const result = extractAsins(generator, properties, config.serverSecretKey);
      rejected += result.rejected;
      if (result.asins.size === 0) continue;
      found.push({
        created: created!.toString('utf8'), createdMicros: Number(createdMicros!.readBigInt64BE(0)), contentHash: hash!.readBigInt64BE(0).toString(),
        source: source!.toString('utf8'), generatorId: generator, asins: result.asins,
      });
    }
    finished = true;
  } finally {
    client.release(!finished);
  }
  return { found, points, rejected };
}

/** The sightings of a range and the position after it, in one transaction. */
function recordRange(pool: Pool, scanned: Scanned, upTo: number): Promise<{ sightings: number; newProducts: number }> {
  return withTransaction(pool, async (tx) => {
    const recorded = await recordSightings(tx, scanned.found);
    await tx.query(
      `UPDATE amazon_harvest_state SET last_point_id = $1, points_scanned = points_scanned + $2, rejected = rejected + $3, updated_at = now()`,
      [upTo, scanned.points, scanned.rejected],
    );
    return recorded;
  });
}
