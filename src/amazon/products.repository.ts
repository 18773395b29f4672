/**
 * Amazon products (tables amazon_products, amazon_harvested_points, amazon_product_sightings):
 * what the harvest records and what the Products page, the endpoints and the export read.
 */
import type { Pool, PoolClient } from '../db/database.ts';
import { excludedSightings, RULES_VERSION, sightingCounted } from '../data-quality/exclusion-sql.ts';
import type { KeepaProductFields } from './keepa-product.ts';
import type { PointSightings, SightingGroup } from './sighting-totals.ts';

/**
 * Adds the points ($1 sources, $2 `created`, $3 digests) to amazon_harvested_points and returns
 * the places in the lists of those it held already.
 */
const RECORD_HARVESTED_SQL = `WITH p AS MATERIALIZED (SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::uuid[]) WITH ORDINALITY AS p (source, created, digest, i)),
  added AS (INSERT INTO amazon_harvested_points (source, created, content_digest) SELECT source, created, digest FROM p
            ON CONFLICT (source, created, content_digest) DO NOTHING
            RETURNING source, created, content_digest)
  SELECT p.i FROM p WHERE NOT EXISTS (SELECT 1 FROM added a WHERE a.source = p.source AND a.created = p.created AND a.content_digest = p.digest)`;

/**
 * Records `points` in `amazon_harvested_points` and returns those it did not hold: a point counted
 * before (read again after `dcs reprocess` re-stored it) moves no count. Only the points counted
 * before come back from PostgreSQL (usually none), by their place in the list.
 */
export async function recordHarvestedPoints(client: PoolClient, points: readonly PointSightings[]): Promise<PointSightings[]> {
  const withAsins = points.filter((p) => p.asins.size > 0);
  if (withAsins.length === 0) return [];
  const { rows: before } = await client.query<{ i: string }>(
    RECORD_HARVESTED_SQL,
    [withAsins.map((p) => p.source), withAsins.map((p) => p.created), withAsins.map((p) => p.contentDigest)],
  );
  if (before.length === 0) return withAsins;
  const counted = new Set(before.map((r) => Number(r.i) - 1));
  return withAsins.filter((_, i) => !counted.has(i));
}

/** Adds summed sightings (sighting-totals.ts) to `amazon_product_sightings`. */
export async function writeSightings(client: PoolClient, groups: readonly SightingGroup[]): Promise<void> {
  if (groups.length === 0) return;
  await client.query(
    `INSERT INTO amazon_product_sightings AS s (asin, source, generator_id, first_seen, last_seen, points, ordered)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int8[], $7::bool[])
     ON CONFLICT (asin, source, generator_id) DO UPDATE SET
       first_seen = least(s.first_seen, excluded.first_seen), last_seen = greatest(s.last_seen, excluded.last_seen),
       points = s.points + excluded.points, ordered = s.ordered OR excluded.ordered`,
    [
      groups.map((g) => g.asin), groups.map((g) => g.source), groups.map((g) => g.generatorId), groups.map((g) => g.first),
      groups.map((g) => g.last), groups.map((g) => g.points), groups.map((g) => g.ordered),
    ],
  );
}

/**
 * Sets the counts of `asins` in `amazon_products` (first and last seen, points, sources, ordered)
 * from their sightings: whole values, not increments, so a refresh can be repeated, and each
 * product's row is written once however many of its sightings changed. The points and sources
 * leave out the sightings exclusion rules exclude (sightingCounted); when and whether it was seen
 * or ordered does not. Returns how many of them are new products.
 */
export async function refreshProducts(client: Pool | PoolClient, asins: ReadonlySet<string>): Promise<number> {
  if (asins.size === 0) return 0;
  const { rows } = await client.query(
    `WITH excluded AS MATERIALIZED (${excludedSightings('(SELECT DISTINCT source FROM amazon_product_sightings WHERE asin = ANY ($1::text[])) AS seen')}),
     product AS (
       INSERT INTO amazon_products AS p (asin, first_seen, last_seen, points, sources, ordered)
       SELECT s.asin, min(s.first_seen), max(s.last_seen), coalesce(sum(s.points) FILTER (WHERE s.counted), 0),
              count(DISTINCT s.source) FILTER (WHERE s.counted), bool_or(s.ordered)
       FROM unnest($1::text[]) AS t (asin)
       JOIN (SELECT s.*, ${sightingCounted('s', 'excluded')} AS counted FROM amazon_product_sightings s) s ON s.asin = t.asin
       GROUP BY s.asin
       ON CONFLICT (asin) DO UPDATE SET
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, points = excluded.points,
         sources = excluded.sources, ordered = excluded.ordered, updated_at = now()
       RETURNING (xmax = 0) AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted)::int AS new_products FROM product`,
    [[...asins]],
  );
  return rows[0].new_products;
}

/** ASINs per statement when every product is counted again. */
const RECOUNT_BATCH = 10_000;

/**
 * When the exclusion rules are not those the products were last counted with: counts every
 * product again (refreshProducts, RECOUNT_BATCH at a time) and records the rules' version read
 * before it started, so a rule changed meanwhile brings another recount. Returns how many
 * products it counted (0: the rules had not changed).
 */
export async function recountProductsForRules(pool: Pool): Promise<number> {
  const { rows: [state] } = await pool.query(
    `SELECT ${RULES_VERSION} AS current, rules_version IS NOT DISTINCT FROM ${RULES_VERSION} AS counted FROM amazon_harvest_state`,
  );
  if (!state || state.counted) return 0;
  let recounted = 0;
  for (let after = ''; ;) {
    const { rows } = await pool.query('SELECT asin FROM amazon_products WHERE asin > $1 ORDER BY asin LIMIT $2', [after, RECOUNT_BATCH]);
    if (rows.length === 0) break;
    await refreshProducts(pool, new Set(rows.map((r) => r.asin as string)));
    recounted += rows.length;
    after = rows.at(-1).asin;
  }
  await pool.query('UPDATE amazon_harvest_state SET rules_version = $1', [state.current]);
  return recounted;
}

/** The stored Keepa metadata of one product; `enriched` false when it has none yet. */
export async function productMetadata(pool: Pool, asin: string): Promise<{ exists: boolean; metadata: unknown }> {
  const { rows } = await pool.query('SELECT metadata FROM amazon_products WHERE asin = $1', [asin]);
  return { exists: rows.length > 0, metadata: rows[0]?.metadata ?? null };
}

export interface ProductSummary {
  asin: string;
  title: string | null;
  categoryTree: string | null;
  brand: string | null;
  /** `created` of the first point it was seen in, in microseconds since the epoch */
  firstSeenMicros: bigint;
}

/**
 * One page of every product (the original's /support/asins.json), in the order they were first
 * found, as the original's ids: a product found later, even in an older point, never moves the
 * products of pages already read.
 */
export async function productPage(pool: Pool, page: number, size: number): Promise<ProductSummary[]> {
  const { rows } = await pool.query(
    `SELECT asin, title, category_tree, brand, (extract(epoch FROM first_seen) * 1000000)::int8::text AS first_seen_micros
     FROM amazon_products ORDER BY added_at, asin LIMIT $1 OFFSET $2`,
    [size, page * size],
  );
  return rows.map((r) => ({ asin: r.asin, title: r.title, categoryTree: r.category_tree, brand: r.brand, firstSeenMicros: BigInt(r.first_seen_micros) }));
}

/**
 * Products due for Keepa: never asked, or missed and due again. Ordered products first (what a
 * participant bought matters most), then the longest waiting.
 */
export async function dueForKeepa(pool: Pool, limit: number): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT asin FROM amazon_products
     WHERE keepa_state <> 'enriched' AND (keepa_next_attempt IS NULL OR keepa_next_attempt <= now())
     ORDER BY ordered DESC, keepa_next_attempt NULLS FIRST, asin LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.asin as string);
}

export async function storeEnriched(pool: Pool, asin: string, metadata: unknown, fields: KeepaProductFields): Promise<void> {
  await pool.query(
    `UPDATE amazon_products SET keepa_state = 'enriched', keepa_attempts = keepa_attempts + 1, keepa_next_attempt = NULL,
       enriched_at = now(), updated_at = now(), metadata = $2, title = $3, brand = $4, manufacturer = $5, product_type = $6,
       size = $7, root_category = $8, category_tree = $9, category_tree_ids = $10, seller = $11
     WHERE asin = $1`,
    [asin, JSON.stringify(metadata), fields.title, fields.brand, fields.manufacturer, fields.type, fields.size, fields.rootCategory,
      fields.categoryTree, fields.categoryTreeIds, fields.seller],
  );
}

/** Keepa does not know these (yet): asked again after 1 h, 2 h, 4 h, … up to 30 days. */
export async function storeMissed(pool: Pool, asins: readonly string[]): Promise<void> {
  if (asins.length === 0) return;
  await pool.query(
    `UPDATE amazon_products SET keepa_state = 'missed', keepa_attempts = keepa_attempts + 1, updated_at = now(),
       keepa_next_attempt = now() + least(interval '30 days', interval '1 hour' * power(2, keepa_attempts))
     WHERE asin = ANY($1::text[])`,
    [asins],
  );
}

export interface KeepaQueue {
  pending: number;
  missed: number;
  enriched: number;
  due: number;
  nextRetry: Date | null;
}

export async function keepaQueue(pool: Pool): Promise<KeepaQueue> {
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE keepa_state = 'pending')::int AS pending, count(*) FILTER (WHERE keepa_state = 'missed')::int AS missed,
            count(*) FILTER (WHERE keepa_state = 'enriched')::int AS enriched,
            count(*) FILTER (WHERE keepa_state <> 'enriched' AND (keepa_next_attempt IS NULL OR keepa_next_attempt <= now()))::int AS due,
            min(keepa_next_attempt) FILTER (WHERE keepa_state = 'missed' AND keepa_next_attempt > now()) AS next_retry
     FROM amazon_products`,
  );
  const r = rows[0];
  return { pending: r.pending, missed: r.missed, enriched: r.enriched, due: r.due, nextRetry: r.next_retry };
}
