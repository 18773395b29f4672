/**
 * One chunk of the harvest's scan: the points some rows of its outbox (`harvest_queue`) name, read
 * by their key with binary COPY (only the fields extract-asins.ts reads), and the ASINs found in
 * them. Runs on the job's thread and on the scan thread (scan-thread.ts), each on a connection of
 * its own: the segment's transaction has deleted those rows but not committed, so they are still
 * there for everyone else to read.
 */
import type { Config } from '../config.ts';
import { streamBinaryRows } from '../db/copy-binary.ts';
import type { Pool } from '../db/database.ts';
import { extractAsins } from './extract-asins.ts';
import type { PointSightings } from './sighting-totals.ts';

/** The text fields extract-asins.ts reads at the top of a point (`asin`: a donated order history's item). */
const TEXT_FIELDS = ['url*', 'url!', 'url', 'element-content*', 'element-content!', 'page-content*', 'page-content!', 'asin'] as const;

export interface Scanned {
  found: PointSightings[];
  points: number;
  rejected: number;
}

/**
 * The query (a COPY's, so without parameters) of the points the queue rows `queueIds` name, with
 * the fields extract-asins.ts reads. Each point is read by its whole unique key, source included.
 */
export function queuedPointsSql(queueIds: readonly number[], quote: (text: string) => string): string {
  // COPY takes no parameters: the ids inline, as numbers only
  const ids = `'{${queueIds.map((id) => Number(id)).join(',')}}'::int8[]`;
  // Only the fields extract-asins.ts reads, the text ones unescaped by PostgreSQL: a click's
  // page-content* is a whole page, and JSON-parsing it here was the harvest's largest cost.
  // `properties || '{}'` (behind OFFSET 0) fetches a large point from TOAST storage once rather
  // than once per field: half PostgreSQL's work for the scan (4.4 s -> 2.7 s of CPU on 300,000
  // points), though not the harvest's time, which this process sets.
  const fields = TEXT_FIELDS.map((key) => `p->>${quote(key)}`).join(', ');
  return `SELECT source, generator_id, created::text, created_us, content_digest,
        ${fields}, p->'pattern-matches', p->'items', p#>>'{passive-data-metadata,generated-key}'
      FROM (SELECT d.source, d.generator_id, d.created, (extract(epoch FROM d.created) * 1000000)::int8 AS created_us, d.content_digest,
                   d.properties || '{}'::jsonb AS p
            -- DISTINCT: a point queued twice (re-stored by \`dcs reprocess\` before it was read) is read once
            FROM (SELECT DISTINCT source, created, content_digest FROM harvest_queue WHERE id = ANY (${ids})) q
            JOIN data_points d ON d.source = q.source AND d.created = q.created AND d.content_digest = q.content_digest
            OFFSET 0) points`;
}

/** Reads and scans the points of the queue rows `queueIds` (a point erased or reprocessed since it was queued is not there). */
export async function scanQueued(pool: Pool, config: Pick<Config, 'serverSecretKey'>, queueIds: readonly number[]): Promise<Scanned> {
  const found: PointSightings[] = [];
  let points = 0;
  let rejected = 0;
  const client = await pool.connect();
  let finished = false;
  try {
    const sql = queuedPointsSql(queueIds, (text) => client.escapeLiteral(text));
    for await (const row of streamBinaryRows(client, sql)) {
      const [source, generatorId, created, createdMicros, digest] = row;
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
        created: created!.toString('utf8'), createdMicros: Number(createdMicros!.readBigInt64BE(0)), contentDigest: digest!.toString('hex'),
        source: source!.toString('utf8'), generatorId: generator, asins: result.asins,
      });
    }
    finished = true;
  } finally {
    client.release(!finished);
  }
  return { found, points, rejected };
}
