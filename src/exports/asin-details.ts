/**
 * webmunk-asin-details, "Webmunk: ASIN Details" (webmunk-server.md §5.5): every Amazon product
 * harvested, not per source or day. The archive gets `<asin[0:4]>/<asin>.json` with each enriched
 * product's Keepa data (valid JSON: NaN is stored as null) and `webmunk-asin-details.txt`, one
 * row per product. The original also listed its cursor marker and junk rows; there are none here.
 */
import { streamBinaryRows } from '../db/copy-binary.ts';
import type { Pool } from '../db/database.ts';
import type { ArchiveWriter } from './archive.ts';
import { column } from './columns/common.ts';
import { writerValue, ZonedTime, type Exporter } from './exporter.ts';
import { ParquetFileWriter } from './parquet-writer.ts';
import { tsvLine } from './tsv.ts';

export const ASIN_DETAILS_TYPE = 'webmunk-asin-details';

export interface ProductRow {
  asin: string;
  type: string | null;
  brand: string | null;
  manufacturer: string | null;
  size: string | null;
  seller: string | null;
  title: string | null;
  rootCategory: number | null;
  categoryTree: string | null;
  categoryTreeIds: string | null;
  addedMicros: number;
  updatedMicros: number;
  enriched: boolean;
  dataUrl: string;
}

export function filePathOf(product: Pick<ProductRow, 'asin' | 'enriched'>): string {
  return product.enriched ? `${product.asin.slice(0, 4)}/${product.asin}.json` : '';
}

export function asinDetailsExporter(timeZone: string): Exporter<ProductRow> {
  const field = (header: string, key: keyof ProductRow, about: string, type: 'string' | 'int' = 'string') => column<ProductRow>(header, type, about, ({ item }) => item[key]);
  return {
    id: ASIN_DETAILS_TYPE,
    label: 'Webmunk: ASIN Details',
    generators: [],
    layout: 'single',
    unit: 'products',
    rowsAre: 'one row per Amazon product participants saw or ordered (all of them, whatever the sources and days asked); each enriched product\'s Keepa data in <first 4 characters>/<ASIN>.json',
    rows: () => [],
    columns: [
      field('ASIN', 'asin', 'the product id'),
      field('Type', 'type', 'Keepa `type` (Amazon product type)'),
      field('Brand', 'brand', 'Keepa `brand`'),
      field('Manufacturer', 'manufacturer', 'Keepa `manufacturer`'),
      field('Size', 'size', 'Keepa `size`'),
      field('Seller', 'seller', 'Keepa `sellerIds` (joined with commas), else `buyBoxSellerId`'),
      field('Title', 'title', 'Keepa `title`'),
      field('Root Category', 'rootCategory', 'Keepa `rootCategory` (a category id)', 'int'),
      field('Category Tree', 'categoryTree', 'Keepa `categoryTree` names joined with " > "'),
      field('Category Tree IDs', 'categoryTreeIds', 'the same category ids joined with " > "'),
      column<ProductRow>('Date Added', 'time', 'when the first point it was seen in was created (the original\'s `added`), in the server TIME_ZONE', ({ item }) => new ZonedTime(item.addedMicros, timeZone)),
      column<ProductRow>('Date Updated', 'time', 'its last change (harvest or Keepa), in the server TIME_ZONE', ({ item }) => new ZonedTime(item.updatedMicros, timeZone)),
      field('Data URL', 'dataUrl', '`<PUBLIC_URL>/support/asin/<ASIN>.json` (needs a peer token or a login)'),
      column<ProductRow>('File Path', 'string', 'its JSON file in this archive, empty until Keepa data exists', ({ item }) => filePathOf(item)),
    ],
  };
}

const text = (value: Buffer | null) => (value === null ? null : value.toString('utf8'));

async function* products(pool: Pool, publicUrl: string, withMetadata: boolean): AsyncGenerator<ProductRow & { metadata?: string }> {
  const client = await pool.connect();
  let finished = false;
  try {
    const sql = `SELECT asin, product_type, brand, manufacturer, size, seller, title, root_category, category_tree, category_tree_ids,
        (extract(epoch FROM first_seen) * 1000000)::int8, (extract(epoch FROM updated_at) * 1000000)::int8,
        ${withMetadata ? 'metadata' : '(metadata IS NOT NULL)::text'}
      FROM amazon_products ORDER BY added_at, asin`;
    for await (const f of streamBinaryRows(client, sql)) {
      const asin = text(f[0])!;
      // binary jsonb is a version byte and the JSON text; files get the original's 2-space indent
      const last = withMetadata ? (f[12] === null ? null : JSON.stringify(JSON.parse(f[12].toString('utf8', 1)), null, 2)) : text(f[12]);
      yield {
        asin, type: text(f[1]), brand: text(f[2]), manufacturer: text(f[3]), size: text(f[4]), seller: text(f[5]), title: text(f[6]),
        rootCategory: f[7] === null ? null : Number(f[7].readBigInt64BE(0)), categoryTree: text(f[8]), categoryTreeIds: text(f[9]),
        addedMicros: Number(f[10]!.readBigInt64BE(0)), updatedMicros: Number(f[11]!.readBigInt64BE(0)),
        enriched: withMetadata ? last !== null : last === 'true', metadata: withMetadata ? last ?? undefined : undefined,
        dataUrl: `${publicUrl}/support/asin/${asin}.json`,
      };
    }
    finished = true;
  } finally {
    client.release(!finished);
  }
}

/**
 * Writes the product files and the table; returns the number of products. Two reads of the
 * products: zip entries are written one after another, and the table is small beside the
 * Keepa data, so reading it again costs less than holding it or a temporary file.
 */
export async function writeAsinDetails(archive: ArchiveWriter, deps: { pool: Pool; publicUrl: string; timeZone: string }, format: 'tsv' | 'raw' | 'parquet', parquetPath: string): Promise<number> {
  const exporter = asinDetailsExporter(deps.timeZone);
  for await (const product of products(deps.pool, deps.publicUrl, true)) {
    if (product.metadata === undefined) continue;
    const entry = archive.entry(filePathOf(product));
    entry.write(`${product.metadata}\n`);
    await entry.close();
  }
  let count = 0;
  const cells = (product: ProductRow) => exporter.columns.map((c) => writerValue(c.value({ point: undefined as never, item: product }), format === 'parquet' ? 'parquet' : 'tsv'));
  if (format === 'parquet') {
    const writer = new ParquetFileWriter(parquetPath, exporter.columns.map((c) => ({ name: c.header, type: c.type })));
    for await (const product of products(deps.pool, deps.publicUrl, false)) {
      count += 1;
      await writer.addRow(cells(product));
    }
    await writer.close();
    archive.addFile(parquetPath, `${ASIN_DETAILS_TYPE}.parquet`);
    return count;
  }
  const entry = archive.entry(`${ASIN_DETAILS_TYPE}.txt`);
  entry.write(tsvLine(exporter.columns.map((c) => c.header)));
  for await (const product of products(deps.pool, deps.publicUrl, false)) {
    count += 1;
    if (entry.write(tsvLine(cells(product)))) await entry.drained();
  }
  await entry.close();
  return count;
}
