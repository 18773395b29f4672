/**
 * In a real browser: the Products list, filtered to ordered products through its form, then one
 * product's page with its price chart and where it was seen; no browser errors on the way.
 * DCS_PRODUCTS_SCREENSHOT=<file.png> keeps a picture of the list, and of the product page beside
 * it (<file>-product.png, or DCS_PRODUCT_SCREENSHOT).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/db/database.ts';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';

const LIST_SHOT = process.env.DCS_PRODUCTS_SCREENSHOT;
const PRODUCT_SHOT = process.env.DCS_PRODUCT_SCREENSHOT ?? LIST_SHOT?.replace(/(\.png)?$/i, '-product.png');

/** A Keepa product with an Amazon and a new price history (Keepa minutes, cents; -1 no offer). */
function keepaProduct(asin: string, title: string, brand: string, tree: Array<[number, string]>): Record<string, unknown> {
  return {
    asin, title, brand, manufacturer: brand, type: 'SPEAKERS', size: 'Without clock', rootCategory: tree[0][0], buyBoxSellerId: 'ATVPDKIKX0DER',
    categoryTree: tree.map(([catId, name]) => ({ catId, name })),
    csv: [
      [4059360, 4999, 4200480, 2499, 4500000, 3999, 5100000, -1, 5300000, 3499, 6262560, 3999, 6600000, 2799],
      [4059360, 4999, 4200480, 2299, 4800000, 3599, 5500000, 3199, 6700000, 2950],
    ],
  };
}

async function seed(pool: Pool): Promise<void> {
  const echo = keepaProduct('B07FZ8S74R', 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal', 'Amazon', [[172282, 'Electronics'], [667846011, 'Home Audio'], [9818047011, 'Smart Speakers']]);
  const products: Array<[string, string, string | null, string | null, string | null, boolean, number, number, string, string]> = [
    ['B07FZ8S74R', 'enriched', echo.title as string, 'Amazon', 'Electronics > Home Audio > Smart Speakers', true, 4, 57, '2026-01-05T10:00Z', '2026-03-01T10:00Z'],
    ['B08N5WRWNW', 'enriched', 'Stainless steel insulated water bottle, 32 oz, wide mouth', 'Hydro Flask', 'Sports & Outdoors > Outdoor Recreation > Camping & Hiking > Hydration > Water Bottles', false, 3, 21, '2026-01-12T08:00Z', '2026-02-27T19:30Z'],
    ['B0CABLE001', 'enriched', 'USB-C to USB-C cable, 6 ft, braided', 'Amazon Basics', 'Electronics > Computers & Accessories > Computer Accessories & Peripherals > Cables & Interconnects > USB Cables', true, 2, 12, '2026-02-01T10:00Z', '2026-02-03T10:00Z'],
    ['B0PENDING1', 'pending', null, null, null, false, 2, 9, '2026-02-10T10:00Z', '2026-03-05T10:00Z'],
    ['B0MISSED01', 'missed', null, null, null, false, 1, 1, '2026-03-01T10:00Z', '2026-03-02T10:00Z'],
  ];
  for (const [asin, state, title, brand, tree, ordered, sources, points, first, last] of products) {
    const metadata = asin === 'B07FZ8S74R' ? { keepa: [echo] } : state === 'enriched' ? { keepa: [{ asin, title, brand, csv: null }] } : null;
    await pool.query(
      `INSERT INTO amazon_products (asin, keepa_state, title, brand, category_tree, ordered, sources, points, first_seen, last_seen, metadata,
         manufacturer, product_type, size, root_category, category_tree_ids, seller, keepa_attempts, keepa_next_attempt, enriched_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
      [asin, state, title, brand, tree, ordered, sources, points, first, last, metadata && JSON.stringify(metadata),
        asin === 'B07FZ8S74R' ? 'Amazon' : null, asin === 'B07FZ8S74R' ? 'SPEAKERS' : null, asin === 'B07FZ8S74R' ? 'Without clock' : null,
        asin === 'B07FZ8S74R' ? 172282 : null, asin === 'B07FZ8S74R' ? '172282 > 667846011 > 9818047011' : null, asin === 'B07FZ8S74R' ? 'ATVPDKIKX0DER' : null,
        state === 'pending' ? 0 : 1, state === 'missed' ? new Date(Date.now() + 3 * 86_400_000) : null, state === 'enriched' ? '2026-03-10T12:00Z' : null],
    );
  }
  await pool.query(`INSERT INTO data_sources (source, first_seen, name) VALUES ('p-0142', now(), 'Participant 142'), ('p-0203', now(), NULL), ('p-0311', now(), 'Participant 311')`);
  await pool.query(
    `INSERT INTO amazon_product_sightings (asin, source, generator_id, first_seen, last_seen, points, ordered) VALUES
      ('B07FZ8S74R', 'p-0142', 'webmunk-amazon-order', '2026-02-01T09:00Z', '2026-02-01T09:00Z', 1, true),
      ('B07FZ8S74R', 'p-0142', 'webmunk-extension-log-elements', '2026-01-05T10:00Z', '2026-03-01T10:00Z', 30, false),
      ('B07FZ8S74R', 'p-0203', 'webmunk-extension-log-elements', '2026-01-10T10:00Z', '2026-02-11T10:00Z', 18, false),
      ('B07FZ8S74R', 'p-0311', 'webmunk-extension-element-show', '2026-02-20T10:00Z', '2026-02-21T10:00Z', 8, false)`,
  );
}

describe('products pages in a browser', () => {
  const server = useTestServer({ TIME_ZONE: 'America/New_York' });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const watchErrors = (page: Page) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('response', (response) => { if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`); });
    return errors;
  };

  it('filters the list to ordered products and opens one, with its price chart and sightings', async () => {
    await seed(server.db.pool);
    const user = await createStaff(server.db.pool, 'pim', 'products password', false);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/products');
    const errors = watchErrors(page);
    await page.reload();

    await expect(page.locator('h1').textContent()).resolves.toBe('Products');
    await expect(page.locator('.products-summary').textContent()).resolves.toMatch(/5 products:\s+3 enriched,\s+1 pending,\s+1 missed;\s+2 ordered\./);
    const rows = page.locator('table.products tbody tr');
    await expect(rows.count()).resolves.toBe(5);
    // Most sources first.
    await expect(rows.nth(0).getAttribute('data-asin')).resolves.toBe('B07FZ8S74R');
    await expect(page.locator('tr[data-asin="B0PENDING1"] .product-title').textContent()).resolves.toBe('not enriched yet');
    await expect(page.locator('tr[data-asin="B0MISSED01"] .product-title').textContent()).resolves.toMatch(/^Keepa does not know it \(retry in (2\.9|3\.0) days\)$/);
    if (LIST_SHOT) await page.screenshot({ path: LIST_SHOT, fullPage: true });

    // The filter, through the form.
    await page.selectOption('select[name="ordered"]', 'ordered');
    await Promise.all([page.waitForURL(/ordered=ordered/), page.click('form.products-toolbar button[type="submit"]')]);
    await expect(rows.count()).resolves.toBe(2);
    await expect(page.locator('table.products tbody .badge.ordered').count()).resolves.toBe(2);
    await expect(page.locator('select[name="ordered"]').inputValue()).resolves.toBe('ordered');

    // A product: its page, its prices, where it was seen.
    await Promise.all([page.waitForURL(/\/data\/products\/B07FZ8S74R$/), page.click('a[href="/data/products/B07FZ8S74R"]')]);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/^Echo Dot \(3rd Gen\)/);
    await expect(page.locator('a:text("on Amazon")').getAttribute('href')).resolves.toBe('https://www.amazon.com/dp/B07FZ8S74R');
    const chart = page.locator('svg.price-chart');
    await expect(chart.isVisible()).resolves.toBe(true);
    await expect(chart.locator('path.series').count()).resolves.toBe(2);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(900);
    expect(box!.height).toBeGreaterThan(150);
    const sightings = page.locator('table.sightings tbody tr');
    await expect(sightings.count()).resolves.toBe(4);
    await expect(sightings.nth(0).locator('td').nth(0).textContent()).resolves.toBe('Participant 142 p-0142');
    await expect(sightings.nth(0).locator('td').nth(1).textContent()).resolves.toBe('Webmunk: Amazon Order Items webmunk-amazon-order');
    await expect(sightings.nth(0).locator('.badge.ordered').count()).resolves.toBe(1);
    await expect(sightings.nth(2).locator('a').getAttribute('href')).resolves.toBe('/data/source/p-0203');

    // The raw metadata folds out.
    const json = page.locator('details.keepa-metadata pre.json');
    await expect(json.isVisible()).resolves.toBe(false);
    await page.click('details.keepa-metadata summary');
    await expect(json.isVisible()).resolves.toBe(true);
    await expect(json.textContent()).resolves.toContain('"asin": "B07FZ8S74R"');
    if (PRODUCT_SHOT) await page.screenshot({ path: PRODUCT_SHOT, fullPage: true });

    expect(errors).toEqual([]);
  });
});
