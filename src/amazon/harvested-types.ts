/**
 * The data types the ASIN harvest reads (extract-asins.ts says what it looks for in each). A leaf
 * of its own because processing reads it too: it appends the new points of these types to the
 * harvest's outbox (`harvest_queue`, migration 0029) in the transaction that stores them.
 */

export const ORDER_TYPE = 'webmunk-amazon-order';
/** A participant's donated order history, one item per point. */
export const DONATED_ITEM_TYPE = 'pdk-external-amazon-item';

/** Point types whose `url*`, `element-content*`, `page-content*` or `pattern-matches` can show products. */
export const PAGE_TYPES: ReadonlySet<string> = new Set([
  'webmunk-extension-matched-rule',
  'webmunk-extension-class-added',
  'webmunk-extension-element-show',
  'webmunk-extension-element-hide',
  'webmunk-extension-element-click',
  'webmunk-extension-log-elements',
  // Carries only `url*`, but a scroll on a product page is a sighting of that product.
  'webmunk-extension-scroll-position',
]);

/** The generator ids that carry pages (scanned for links and data-asin) plus the two kinds of orders. */
export const ASIN_TYPES: readonly string[] = Object.freeze([ORDER_TYPE, DONATED_ITEM_TYPE, ...PAGE_TYPES]);

export const HARVESTED_TYPES: ReadonlySet<string> = new Set(ASIN_TYPES);
