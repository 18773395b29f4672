/**
 * Values derived from a product's stored Keepa metadata, `{"keepa": [product, …]}`
 * (webmunk-server.md §2.2–2.3). Pure functions: unlike the original's brand lookup, reading never
 * writes; the caller stores the result (the amazon_products columns) when it saves the metadata.
 *
 * The original's rules, kept: entries of `keepa` that are not objects are skipped (a `keepa` that
 * is not a list has no entries); most values come from the first entry, the brand from the last,
 * and the category tree from all of them. Null metadata (or metadata that is not JSON) gives null
 * for everything.
 */
import { parseJsonAllowingNaN } from './keepa-client.ts';

export interface KeepaProductFields {
  /** `title` of the first entry. */
  title: string | null;
  /**
   * `brand` of the last entry: '' when that entry has no `brand` key, null when Keepa sent null
   * (as the original stored it). Null when there is no entry.
   */
  brand: string | null;
  /** `manufacturer` of the first entry. */
  manufacturer: string | null;
  /** `type` (Amazon's product type, e.g. "SPEAKERS") of the first entry. */
  type: string | null;
  /** `size` of the first entry. */
  size: string | null;
  /** `rootCategory` (a category id, not a name) of the first entry; Keepa sends 0 when it has none. */
  rootCategory: number | null;
  /** The `name` of every `categoryTree` element across all entries, joined with " > "; '' if none. */
  categoryTree: string | null;
  /** The same with the `catId`s. */
  categoryTreeIds: string | null;
  /**
   * The first entry's `sellerIds` when present and not null, else its `buyBoxSellerId`. The
   * original returned the raw value (a list or a string); here a list is joined with ',' so the
   * value fits a text column.
   */
  seller: string | null;
}

const NONE: KeepaProductFields = {
  title: null,
  brand: null,
  manufacturer: null,
  type: null,
  size: null,
  rootCategory: null,
  categoryTree: null,
  categoryTreeIds: null,
  seller: null,
};

/** Keepa minutes count from 2011-01-01T00:00Z: this many minutes after the Unix epoch. */
export const KEEPA_EPOCH_MINUTES = 21_564_000;

/** A Keepa time (minutes since 2011-01-01 UTC) as a Date. */
export function keepaMinutesToDate(minutes: number): Date {
  return new Date((minutes + KEEPA_EPOCH_MINUTES) * 60_000);
}

export interface PricePoint {
  /** ISO-8601, UTC. */
  time: string;
  /** In the locale's currency units (cents / 100); null when there was no offer (Keepa -1). */
  price: number | null;
}

/** Keepa's csv series index: 0 AMAZON (Amazon's own price), 1 NEW (lowest new, marketplace included). */
export const CSV_AMAZON = 0;
export const CSV_NEW = 1;

/**
 * The stored metadata's derived values. `metadata` is the parsed object or its JSON text (bare
 * NaN tokens allowed).
 */
export function deriveProductFields(metadata: unknown): KeepaProductFields {
  if (typeof metadata === 'string') {
    try {
      metadata = parseJsonAllowingNaN(metadata);
    } catch {
      return { ...NONE };
    }
  }
  if (metadata === null || metadata === undefined || typeof metadata !== 'object') return { ...NONE };
  const entries = keepaEntries(metadata);
  const first = entries[0];

  let brand: string | null = null;
  for (const entry of entries) brand = 'brand' in entry ? text(entry.brand) : '';

  const names: string[] = [];
  const ids: string[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry.categoryTree)) continue;
    for (const category of entry.categoryTree) {
      if (!isObject(category)) continue;
      const name = text(category.name);
      if (name !== null) names.push(name);
      const id = text(category.catId);
      if (id !== null) ids.push(id);
    }
  }

  let seller: string | null = null;
  if (first) {
    const raw = 'sellerIds' in first && first.sellerIds !== null && first.sellerIds !== undefined ? first.sellerIds : first.buyBoxSellerId;
    seller = Array.isArray(raw) ? raw.map((v) => text(v)).filter((v): v is string => v !== null).join(',') : text(raw);
  }

  return {
    title: first ? text(first.title) : null,
    brand,
    manufacturer: first ? text(first.manufacturer) : null,
    type: first ? text(first.type) : null,
    size: first ? text(first.size) : null,
    rootCategory: first ? integer(first.rootCategory) : null,
    categoryTree: names.join(' > '),
    categoryTreeIds: ids.join(' > '),
    seller,
  };
}

/** The object entries of `metadata.keepa` (the others skipped, as the original did). */
export function keepaEntries(metadata: unknown): Record<string, unknown>[] {
  if (!isObject(metadata) || !Array.isArray(metadata.keepa)) return [];
  return metadata.keepa.filter(isObject);
}

/**
 * The Amazon and new price histories of a Keepa product (csv[0] and csv[1], pairs of Keepa
 * minute and price in cents), oldest first. Prices are divided by 100 whatever the locale (as the
 * Python client does; for amazon.co.jp the unit is then 1/100 yen). Empty when there is no history.
 */
export function priceHistory(product: unknown): { amazon: PricePoint[]; new: PricePoint[] } {
  const csv = isObject(product) && Array.isArray(product.csv) ? product.csv : [];
  return { amazon: decodePriceSeries(csv[CSV_AMAZON]), new: decodePriceSeries(csv[CSV_NEW]) };
}

/**
 * One Keepa price series: [time, price, time, price, …] (or, with shipping, [time, price,
 * shipping, …], price + shipping). A negative price (-1: no offer, out of stock) or one that is not
 * a number (NaN stored as null) is null; a pair whose time is not a number is left out.
 */
export function decodePriceSeries(series: unknown, withShipping = false): PricePoint[] {
  if (!Array.isArray(series)) return [];
  const step = withShipping ? 3 : 2;
  const points: PricePoint[] = [];
  for (let i = 0; i + step - 1 < series.length; i += step) {
    const time = series[i];
    if (typeof time !== 'number' || !Number.isFinite(time)) continue;
    let cents: number | null = finite(series[i + 1]);
    if (withShipping && cents !== null && cents >= 0) {
      const shipping = finite(series[i + 2]);
      cents = shipping !== null && shipping > 0 ? cents + shipping : cents;
    }
    points.push({ time: keepaMinutesToDate(time).toISOString(), price: cents === null || cents < 0 ? null : cents / 100 });
  }
  return points;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return null;
}

function integer(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value)) return Number(value);
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
