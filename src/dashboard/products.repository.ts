/**
 * The Products pages' reads: amazon_products (kept by the asin-harvest and keepa-enrich jobs) and
 * amazon_product_sightings, with the sources' names (data_sources) and the data types' labels
 * (data_types). Filters are parameters and the sort is one of a fixed list: nothing a request
 * says is ever put into the SQL text.
 */
import type { Pool } from '../db/database.ts';
import { containsPattern, type SortDirection } from './user-agents.repository.ts';

export type KeepaState = 'pending' | 'enriched' | 'missed';
export type ProductSort = 'sources' | 'points' | 'last' | 'first' | 'title';
export type { SortDirection };

const SORT_SQL: Record<ProductSort, string> = {
  sources: 'sources',
  points: 'points',
  last: 'last_seen',
  first: 'first_seen',
  title: 'title',
};

export function isProductSort(value: string): value is ProductSort {
  return Object.hasOwn(SORT_SQL, value);
}

export function isKeepaState(value: string): value is KeepaState {
  return value === 'pending' || value === 'enriched' || value === 'missed';
}

export interface ProductFilter {
  /** substring of the ASIN, title or brand, case-insensitive; '' for all */
  search: string;
  /** undefined for every state */
  state?: KeepaState;
  /** true: in an order; false: only seen; undefined: both */
  ordered?: boolean;
  /** the whole brand, case-insensitive; '' for all */
  brand: string;
  /** substring of the category tree, case-insensitive; '' for all */
  category: string;
}

export interface ProductQuery extends ProductFilter {
  sort: ProductSort;
  dir: SortDirection;
  limit: number;
  offset: number;
}

export interface ProductRow {
  asin: string;
  title: string | null;
  brand: string | null;
  categoryTree: string | null;
  ordered: boolean;
  sources: number;
  points: number;
  firstSeen: Date;
  lastSeen: Date;
  keepaState: KeepaState;
  keepaNextAttempt: Date | null;
}

/** The WHERE clause of a filter, over parameters $1…$5 (in filterParams' order). */
const FILTER_SQL = `($1::text IS NULL OR asin ILIKE $1 ESCAPE '\\' OR title ILIKE $1 ESCAPE '\\' OR brand ILIKE $1 ESCAPE '\\')
  AND ($2::text IS NULL OR keepa_state = $2)
  AND ($3::boolean IS NULL OR ordered = $3)
  AND ($4::text IS NULL OR lower(brand) = lower($4))
  AND ($5::text IS NULL OR category_tree ILIKE $5 ESCAPE '\\')`;

function filterParams(filter: ProductFilter): unknown[] {
  return [
    filter.search ? containsPattern(filter.search) : null,
    filter.state ?? null,
    filter.ordered ?? null,
    filter.brand || null,
    filter.category ? containsPattern(filter.category) : null,
  ];
}

/** One page of the products matching a filter, in the chosen order (ties by ASIN). */
export async function listProducts(db: Pool, query: ProductQuery): Promise<ProductRow[]> {
  const order = `${SORT_SQL[query.sort]} ${query.dir === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, asin ASC`;
  const { rows } = await db.query(
    `SELECT asin, title, brand, category_tree, ordered, sources, points::float8 AS points, first_seen, last_seen, keepa_state, keepa_next_attempt
     FROM amazon_products WHERE ${FILTER_SQL}
     ORDER BY ${order} LIMIT $6 OFFSET $7`,
    [...filterParams(query), query.limit, query.offset],
  );
  return rows.map((r) => ({
    asin: r.asin, title: r.title, brand: r.brand, categoryTree: r.category_tree, ordered: r.ordered, sources: r.sources, points: r.points,
    firstSeen: r.first_seen, lastSeen: r.last_seen, keepaState: r.keepa_state, keepaNextAttempt: r.keepa_next_attempt,
  }));
}

/** How many products match a filter. */
export async function countProducts(db: Pool, filter: ProductFilter): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM amazon_products WHERE ${FILTER_SQL}`, filterParams(filter));
  return rows[0].n;
}

export interface ProductTotals {
  products: number;
  enriched: number;
  pending: number;
  missed: number;
  ordered: number;
}

/** Counts over every product, for the summary line. */
export async function productTotals(db: Pool): Promise<ProductTotals> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS products,
            count(*) FILTER (WHERE keepa_state = 'enriched')::int AS enriched,
            count(*) FILTER (WHERE keepa_state = 'pending')::int AS pending,
            count(*) FILTER (WHERE keepa_state = 'missed')::int AS missed,
            count(*) FILTER (WHERE ordered)::int AS ordered
     FROM amazon_products`,
  );
  return rows[0];
}

/** The brands with the most products, most first (for the brand filter's suggestions). */
export async function listTopBrands(db: Pool, limit = 50): Promise<Array<{ brand: string; products: number }>> {
  const { rows } = await db.query(
    `SELECT brand, count(*)::int AS products FROM amazon_products WHERE brand IS NOT NULL AND brand <> ''
     GROUP BY brand ORDER BY count(*) DESC, brand LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface ProductDetail extends ProductRow {
  keepaAttempts: number;
  enrichedAt: Date | null;
  metadata: unknown;
  manufacturer: string | null;
  productType: string | null;
  size: string | null;
  rootCategory: string | null;
  categoryTreeIds: string | null;
  seller: string | null;
  addedAt: Date;
  updatedAt: Date;
}

/** One product by ASIN (as stored: upper case), or undefined. */
export async function findProduct(db: Pool, asin: string): Promise<ProductDetail | undefined> {
  const { rows } = await db.query(
    `SELECT *, points::float8 AS points, root_category::text AS root_category FROM amazon_products WHERE asin = $1`,
    [asin],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    asin: r.asin, title: r.title, brand: r.brand, categoryTree: r.category_tree, ordered: r.ordered, sources: r.sources, points: r.points,
    firstSeen: r.first_seen, lastSeen: r.last_seen, keepaState: r.keepa_state, keepaNextAttempt: r.keepa_next_attempt,
    keepaAttempts: r.keepa_attempts, enrichedAt: r.enriched_at, metadata: r.metadata, manufacturer: r.manufacturer,
    productType: r.product_type, size: r.size, rootCategory: r.root_category, categoryTreeIds: r.category_tree_ids,
    seller: r.seller, addedAt: r.added_at, updatedAt: r.updated_at,
  };
}

export interface ProductSighting {
  source: string;
  /** the source's friendly name, if it has one */
  name: string | null;
  generatorId: string;
  /** the data type's label, if the catalog knows it */
  label: string | null;
  points: number;
  ordered: boolean;
  firstSeen: Date;
  lastSeen: Date;
}

/** Where a product was seen, per source and data type: ordered first, then most points. */
export async function listProductSightings(db: Pool, asin: string, limit = 500): Promise<{ sightings: ProductSighting[]; total: number }> {
  const [{ rows }, count] = await Promise.all([
    db.query(
      `SELECT s.source, d.name, s.generator_id, t.label, s.points::float8 AS points, s.ordered, s.first_seen, s.last_seen
       FROM amazon_product_sightings s
       LEFT JOIN data_sources d ON d.source = s.source
       LEFT JOIN data_types t ON t.identifier = s.generator_id
       WHERE s.asin = $1
       ORDER BY s.ordered DESC, s.points DESC, s.source, s.generator_id
       LIMIT $2`,
      [asin, limit],
    ),
    db.query('SELECT count(*)::int AS n FROM amazon_product_sightings WHERE asin = $1', [asin]),
  ]);
  return {
    sightings: rows.map((r) => ({
      source: r.source, name: r.name, generatorId: r.generator_id, label: r.label, points: r.points, ordered: r.ordered,
      firstSeen: r.first_seen, lastSeen: r.last_seen,
    })),
    total: count.rows[0].n,
  };
}
