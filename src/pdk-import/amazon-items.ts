/**
 * The Webmunk server's Keepa metadata (support_amazonasinitem, webmunk-server.md §2) → our
 * amazon_products, so products it already paid Keepa tokens for are not asked again. Only
 * enriched items are imported: the others the ASIN harvest finds again in the imported points
 * (and it fills in every product's sightings and counts). The harvest's cursor rows the original
 * kept among its items (§2.4) are skipped. A product enriched here more recently than the
 * original's copy is left as it is; re-running changes nothing.
 */
import type pg from 'pg';
import { parseJsonAllowingNaN } from '../amazon/keepa-client.ts';
import { deriveProductFields } from '../amazon/keepa-product.ts';
import type { Pool } from '../db/database.ts';
import type { ImportReport } from './import-report.ts';
import { pagesById, timeText } from './original-database.ts';

/** Keepa metadata with price histories runs to hundreds of KB an item. */
const PAGE_SIZE = 100;
const ASIN = /^[A-Z0-9]{10}$/;
/** The original's harvest cursor: an ISO time stored as an item (deleted there by this same test). */
const isCursorMarker = (asin: string) => asin.startsWith('20') && asin.includes('T') && asin.includes(':') && asin.includes('+');

interface OriginalItem {
  id: number;
  asin: string;
  added: string;
  updated: string;
  metadata: string | null;
}

export interface AmazonImport {
  enriched: number;
  /** Of them, already here as recent or more recent. */
  unchanged: number;
  notEnriched: number;
  markers: number;
}

export async function importAmazonItems(pool: Pool, client: pg.Client, report: ImportReport): Promise<AmazonImport> {
  const result: AmazonImport = { enriched: 0, unchanged: 0, notEnriched: 0, markers: 0 };
  const invalid: string[] = [];
  const unreadable: string[] = [];
  for await (const page of pagesById<OriginalItem>(client, {
    columns: `asin, ${timeText('added')} AS added, ${timeText('updated')} AS updated, metadata::text AS metadata`,
    table: 'support_amazonasinitem',
    pageSize: PAGE_SIZE,
  })) {
    for (const item of page) {
      if (isCursorMarker(item.asin)) {
        result.markers += 1;
        continue;
      }
      if (!ASIN.test(item.asin)) {
        invalid.push(item.asin);
        continue;
      }
      if (item.metadata === null) {
        result.notEnriched += 1;
        continue;
      }
      let metadata: unknown;
      try {
        metadata = parseJsonAllowingNaN(item.metadata);
      } catch {
        unreadable.push(item.asin);
        continue;
      }
      const fields = deriveProductFields(metadata);
      // NaN becomes null, as our own enrichment stores it.
      const { rowCount } = await pool.query(
        `INSERT INTO amazon_products AS p (asin, first_seen, last_seen, keepa_state, keepa_attempts, enriched_at, metadata,
           title, brand, manufacturer, product_type, size, root_category, category_tree, category_tree_ids, seller)
         VALUES ($1, $2, $2, 'enriched', 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (asin) DO UPDATE SET keepa_state = 'enriched', keepa_next_attempt = NULL, enriched_at = excluded.enriched_at,
           metadata = excluded.metadata, title = excluded.title, brand = excluded.brand, manufacturer = excluded.manufacturer,
           product_type = excluded.product_type, size = excluded.size, root_category = excluded.root_category,
           category_tree = excluded.category_tree, category_tree_ids = excluded.category_tree_ids, seller = excluded.seller, updated_at = now()
         WHERE p.keepa_state <> 'enriched' OR p.enriched_at IS NULL OR p.enriched_at < excluded.enriched_at`,
        [item.asin, item.added, item.updated, JSON.stringify(metadata), fields.title, fields.brand, fields.manufacturer, fields.type,
          fields.size, fields.rootCategory, fields.categoryTree, fields.categoryTreeIds, fields.seller],
      );
      result.enriched += 1;
      if (rowCount === 0) result.unchanged += 1;
    }
  }
  const some = (list: string[]) => `${list.slice(0, 5).map((a) => JSON.stringify(a)).join(', ')}${list.length > 5 ? ', …' : ''}`;
  if (invalid.length > 0) report.notes.push(`${invalid.length} Amazon items are not ASINs (10 capitals and digits) and were not imported: ${some(invalid)}`);
  if (unreadable.length > 0) report.notes.push(`${unreadable.length} Amazon items have metadata that is not JSON and were not imported (the Keepa job asks again): ${some(unreadable)}`);
  return result;
}
