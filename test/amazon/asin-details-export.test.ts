/**
 * The webmunk-asin-details export (webmunk-server.md §5.5): one JSON file per enriched product
 * (valid JSON, 2-space indent) and the TSV of every product, exact cells; once a night, in the
 * first nightly archive only.
 */
import { describe, expect, it } from 'vitest';
import { queueNightlyDay } from '../../src/exports/nightly.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, tsvRows } from '../exports/support.ts';

const server = useTestServer({ TIME_ZONE: 'America/New_York', PUBLIC_URL: 'https://data.example.org', SOURCES_PER_REPORT_JOB: '1' });

const metadata = { keepa: [{ asin: 'B0BXYZ1234', title: 'Anker USB C Charger 20W', brand: 'Anker', csv: [[6000000, 1599, 6000100, null]], categoryTree: [{ catId: 172282, name: 'Electronics' }] }] };

describe('webmunk-asin-details export', () => {
  // Date Added is, as in the original, the `created` time of the first point the product was seen in
  // (first_seen), not when the harvest inserted its row (added_at).
  it('writes every product as a TSV row and each enriched one as its JSON file', async () => {
    await server.db.pool.query(
      `INSERT INTO amazon_products (asin, first_seen, last_seen, points, sources, ordered, keepa_state, metadata, title, brand, manufacturer, product_type, size, root_category, category_tree, category_tree_ids, seller, added_at, updated_at)
       VALUES ('B0BXYZ1234', '2023-09-14 15:43:08.93+00', now(), 5, 1, true, 'enriched', $1, 'Anker USB C Charger 20W', 'Anker', 'Anker Innovations', 'CHARGER', '20W', 172282, 'Electronics', '172282', 'A294P4X9EWVXLJ', '2023-09-20 08:00:00+00', '2023-09-15 10:00:00+00'),
              ('B08L5TNJHG', '2023-09-16 00:00:00+00', now(), 1, 1, false, 'pending', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2023-09-21 00:00:00+00', '2023-09-16 00:00:00+00')`,
      [JSON.stringify(metadata)],
    );
    const archive = await exportArchive(server, { types: ['webmunk-asin-details'], sources: [] });
    expect([...archive.keys()].sort()).toEqual(['B0BX/B0BXYZ1234.json', 'README.txt', 'webmunk-asin-details.txt']);
    const file = archive.get('B0BX/B0BXYZ1234.json')!.data.toString('utf8');
    expect(JSON.parse(file)).toEqual(metadata);
    expect(file).toContain('\n  "keepa": [\n');
    expect(tsvRows(archive.get('webmunk-asin-details.txt')!.data)).toEqual([
      ['ASIN', 'Type', 'Brand', 'Manufacturer', 'Size', 'Seller', 'Title', 'Root Category', 'Category Tree', 'Category Tree IDs', 'Date Added', 'Date Updated', 'Data URL', 'File Path'],
      ['B0BXYZ1234', 'CHARGER', 'Anker', 'Anker Innovations', '20W', 'A294P4X9EWVXLJ', 'Anker USB C Charger 20W', '172282', 'Electronics', '172282', '2023-09-14T11:43:08.930000-04:00', '2023-09-15T06:00:00-04:00', 'https://data.example.org/support/asin/B0BXYZ1234.json', 'B0BX/B0BXYZ1234.json'],
      ['B08L5TNJHG', '', '', '', '', '', '', '', '', '', '2023-09-15T20:00:00-04:00', '2023-09-15T20:00:00-04:00', 'https://data.example.org/support/asin/B08L5TNJHG.json', ''],
    ]);
    expect(archive.get('README.txt')!.data.toString('utf8')).toMatch(/webmunk-asin-details \(Webmunk: ASIN Details\): 2 products/);
  });

  it('is in the first nightly archive only', async () => {
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('s1', now()), ('s2', now())`);
    const jobs = await queueNightlyDay(server.db.pool, server.config, '2024-01-09');
    expect(jobs).toHaveLength(2);
    expect(jobs[0].types).toContain('webmunk-asin-details');
    expect(jobs[1].types).not.toContain('webmunk-asin-details');
    expect(jobs[1].types).toHaveLength(12);
  });
});
