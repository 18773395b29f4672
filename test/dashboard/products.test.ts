/**
 * /data/products and /data/products/<ASIN> over real HTTP and PostgreSQL, on products inserted as
 * the asin-harvest and keepa-enrich jobs leave them: the summary, search, filters, sort, paging,
 * the product page's figures, derived fields, price chart, sightings and raw metadata, 404s, the
 * login, and escaping of what Keepa (and so any seller) writes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { shortCategory } from '../../src/dashboard/pages/products.page.ts';
import type { Pool } from '../../src/db/database.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

const SCRIPT_TITLE = 'Zany <script>alert("t")</script> puzzle';
const LONG_TREE = 'Electronics > Computers & Accessories > Computer Accessories & Peripherals > Cables & Interconnects > USB Cables';

/** A Keepa product as the product request returns it (history=1), abridged. */
function echoDot(): Record<string, unknown> {
  const csv: Array<number[] | null> = Array.from({ length: 34 }, () => null);
  csv[0] = [4059360, 4999, 4200480, 2499, 5100000, -1, 6262560, 3999];
  csv[1] = [4059360, 4999, 4200480, 2299, 6700000, 2950];
  return {
    csv, asin: 'B07FZ8S74R', domainId: 1, title: 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal', brand: 'Amazon', manufacturer: 'Amazon',
    type: 'SPEAKERS', size: 'Without clock', rootCategory: 172282, buyBoxSellerId: 'ATVPDKIKX0DER',
    categoryTree: [{ catId: 172282, name: 'Electronics' }, { catId: 667846011, name: 'Home Audio' }, { catId: 9818047011, name: 'Smart Speakers' }],
  };
}

interface ProductRow {
  asin: string;
  state?: 'pending' | 'enriched' | 'missed';
  title?: string;
  brand?: string;
  category?: string;
  ordered?: boolean;
  sources: number;
  points: number;
  first: string;
  last: string;
  metadata?: unknown;
  extra?: Record<string, unknown>;
}

async function insertProduct(pool: Pool, p: ProductRow): Promise<void> {
  const extra = p.extra ?? {};
  await pool.query(
    `INSERT INTO amazon_products (asin, keepa_state, title, brand, category_tree, ordered, sources, points, first_seen, last_seen, metadata,
       manufacturer, product_type, size, root_category, category_tree_ids, seller, keepa_attempts, keepa_next_attempt, enriched_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
    [p.asin, p.state ?? 'pending', p.title ?? null, p.brand ?? null, p.category ?? null, p.ordered ?? false, p.sources, p.points, p.first, p.last,
      p.metadata === undefined ? null : JSON.stringify(p.metadata), extra.manufacturer ?? null, extra.type ?? null, extra.size ?? null,
      extra.rootCategory ?? null, extra.categoryTreeIds ?? null, extra.seller ?? null, extra.attempts ?? 0, extra.nextAttempt ?? null,
      p.state === 'enriched' ? '2026-03-10T12:00:00Z' : null],
  );
}

describe('products pages', () => {
  const server = useTestServer({ TIME_ZONE: 'UTC' });
  let login: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'pia', 'pia password', false);
    login = await logIn(server.baseUrl, 'pia', 'pia password');
  });

  const get = async (path: string, status = 200) => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(status);
    return response.text();
  };
  const list = (query = '') => get(`/data/products${query}`);
  /** The ASINs of the table's rows, in order. */
  const asinsOf = (page: string) => [...page.matchAll(/<tr data-asin="([A-Z0-9]{10})">/g)].map((m) => m[1]);
  /** The text of some markup, as read (tags dropped) or as cells (each tag a space). */
  const text = (page: string) => page.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
  const words = (page: string) => page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

  it('needs a login, for the list and for a product', async () => {
    for (const path of ['/data/products?state=missed', '/data/products/B07FZ8S74R']) {
      const response = await fetch(`${server.baseUrl}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`/data/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('explains an empty list: the harvest job and KEEPA_API_KEY', async () => {
    const page = await list();
    expect(page).toContain('href="/data/products" aria-current="page"');
    expect(page).toContain('<h1>Products</h1>');
    expect(text(page)).toMatch(/No products yet\. The asin-harvest job .* every 5 minutes.* needs KEEPA_API_KEY/);
    expect(page).not.toContain('<table');
  });

  describe('with products', () => {
    const ALL = ['B07FZ8S74R', 'B0CABLE001', 'B0PENDING1', 'B0MISSED01', 'B0SCRIPT01'];

    beforeAll(async () => {
      const pool = server.db.pool;
      await insertProduct(pool, {
        asin: 'B07FZ8S74R', state: 'enriched', title: 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal', brand: 'Amazon',
        category: 'Electronics > Home Audio > Smart Speakers', ordered: true, sources: 3, points: 40, first: '2026-01-05T10:00Z', last: '2026-03-01T10:00Z',
        metadata: { keepa: [echoDot()] },
        extra: { manufacturer: 'Amazon', type: 'SPEAKERS', size: 'Without clock', rootCategory: 172282, categoryTreeIds: '172282 > 667846011 > 9818047011', seller: 'ATVPDKIKX0DER', attempts: 1 },
      });
      await insertProduct(pool, {
        asin: 'B0CABLE001', state: 'enriched', title: 'Amazon Basics USB cable', brand: 'Amazon Basics', category: LONG_TREE,
        sources: 2, points: 60, first: '2026-01-01T10:00Z', last: '2026-02-01T10:00Z', metadata: { keepa: [{ asin: 'B0CABLE001', title: 'Amazon Basics USB cable', csv: null }] },
      });
      await insertProduct(pool, { asin: 'B0PENDING1', sources: 2, points: 10, first: '2026-02-10T10:00Z', last: '2026-03-05T10:00Z' });
      await pool.query(`INSERT INTO amazon_products (asin, keepa_state, keepa_attempts, keepa_next_attempt, sources, points, first_seen, last_seen)
        VALUES ('B0MISSED01', 'missed', 2, now() + interval '3 days', 1, 1, '2026-03-01T10:00Z', '2026-03-02T10:00Z')`);
      await insertProduct(pool, {
        asin: 'B0SCRIPT01', state: 'enriched', title: SCRIPT_TITLE, brand: 'Acme & Co', category: 'Toys & Games > Puzzles',
        sources: 1, points: 5, first: '2026-01-20T10:00Z', last: '2026-02-20T10:00Z', metadata: { keepa: [{ asin: 'B0SCRIPT01', title: SCRIPT_TITLE, csv: null }] },
      });
      await pool.query(`INSERT INTO data_sources (source, first_seen, name) VALUES ('src-alpha', now(), 'Alpha <b>participant</b>'), ('src-beta', now(), NULL)`);
      await pool.query(
        `INSERT INTO amazon_product_sightings (asin, source, generator_id, first_seen, last_seen, points, ordered) VALUES
          ('B07FZ8S74R', 'src-alpha', 'webmunk-amazon-order', '2026-02-01T09:00Z', '2026-02-01T09:00Z', 2, true),
          ('B07FZ8S74R', 'src-alpha', 'webmunk-extension-log-elements', '2026-01-05T10:00Z', '2026-03-01T10:00Z', 30, false),
          ('B07FZ8S74R', 'src-beta', 'custom-shop-type', '2026-01-10T10:00Z', '2026-01-11T10:00Z', 8, false),
          ('B0PENDING1', 'src-beta', 'webmunk-extension-log-elements', '2026-02-10T10:00Z', '2026-03-05T10:00Z', 10, false)`,
      );
    });

    it('sums the products up and lists them, most sources first, with their figures', async () => {
      const page = await list();
      expect(text(page)).toContain('5 products: 3 enriched, 1 pending, 1 missed; 1 ordered.');
      expect(page).toContain('href="/data/products?state=missed">1 missed</a>');
      expect(asinsOf(page)).toEqual(ALL);
      // Keepa is not configured in tests: say why products stay pending.
      expect(page).toContain('KEEPA_API_KEY is not set');
      const echo = page.slice(page.indexOf('<tr data-asin="B07FZ8S74R">'), page.indexOf('</tr>', page.indexOf('<tr data-asin="B07FZ8S74R">')));
      expect(echo).toContain('<a href="/data/products/B07FZ8S74R">B07FZ8S74R</a>');
      expect(echo).toContain('Echo Dot (3rd Gen)');
      expect(echo).toContain('<span class="badge ordered">Ordered</span>');
      expect(echo).toContain('<td>Amazon</td>');
      expect(echo).toContain('Electronics &gt; Home Audio &gt; Smart Speakers');
      expect(echo).toMatch(/<td class="num">3<\/td><td class="num">40<\/td>\s*<td class="nowrap">2026-01-05 10:00<\/td><td class="nowrap">2026-03-01 10:00<\/td>/);
      // A long category tree is shortened to its last levels, the whole on hover.
      expect(shortCategory(LONG_TREE)).toBe('… > Cables & Interconnects > USB Cables');
      expect(page).toContain(`title="${LONG_TREE.replace(/&/g, '&amp;').replace(/>/g, '&gt;')}">… &gt; Cables &amp; Interconnects &gt; USB Cables</span>`);
      // What stands in for a title Keepa has not given.
      expect(page).toMatch(/data-asin="B0PENDING1">[^]*?<span class="muted">not enriched yet<\/span>/);
      expect(page).toMatch(/data-asin="B0MISSED01">[^]*?<span class="muted">Keepa does not know it \(retry in 3\.0 days\)<\/span>/);
      // The default sort is marked, and its header flips it.
      expect(page).toContain('<th class="num" aria-sort="descending"><a href="/data/products?sort=sources&amp;dir=asc">Sources</a></th>');
      expect(page.match(/aria-sort=/g)).toHaveLength(1);
    });

    it('filters by Keepa state, ordered, brand and category, alone and together', async () => {
      expect(asinsOf(await list('?state=enriched'))).toEqual(['B07FZ8S74R', 'B0CABLE001', 'B0SCRIPT01']);
      expect(asinsOf(await list('?state=pending'))).toEqual(['B0PENDING1']);
      expect(asinsOf(await list('?state=missed'))).toEqual(['B0MISSED01']);
      expect(asinsOf(await list('?state=all'))).toEqual(ALL);
      const ordered = await list('?ordered=ordered');
      expect(asinsOf(ordered)).toEqual(['B07FZ8S74R']);
      expect(ordered).toMatch(/<option value="ordered" selected>ordered<\/option>/);
      expect(ordered).toContain('1 matching.');
      expect(asinsOf(await list('?ordered=seen'))).toEqual(['B0CABLE001', 'B0PENDING1', 'B0MISSED01', 'B0SCRIPT01']);
      // The brand is the whole brand ("Amazon" is not "Amazon Basics"), in any case.
      expect(asinsOf(await list('?brand=amazon'))).toEqual(['B07FZ8S74R']);
      expect(asinsOf(await list(`?brand=${encodeURIComponent('Amazon Basics')}`))).toEqual(['B0CABLE001']);
      expect(asinsOf(await list('?category=home%20audio'))).toEqual(['B07FZ8S74R']);
      expect(asinsOf(await list('?category=Electronics'))).toEqual(['B07FZ8S74R', 'B0CABLE001']);
      expect(asinsOf(await list('?state=enriched&ordered=seen'))).toEqual(['B0CABLE001', 'B0SCRIPT01']);
      expect(asinsOf(await list('?state=bogus&ordered=maybe'))).toEqual(ALL);
      const none = await list('?brand=Nobody');
      expect(asinsOf(none)).toEqual([]);
      expect(none).toContain('No product matches.');
      // The brand suggestions: every brand, most products first.
      const page = await list();
      expect(page).toMatch(/<datalist id="products-brands"><option value="Acme &amp; Co">1 products<\/option><option value="Amazon">1 products<\/option><option value="Amazon Basics">/);
      // Links keep the filters.
      const filtered = await list('?state=enriched&brand=Amazon&category=Home');
      expect(filtered).toContain('href="/data/products?state=enriched&amp;brand=Amazon&amp;category=Home&amp;sort=points&amp;dir=desc"');
      expect(filtered).toContain('<a href="/data/products">Clear</a>');
    });

    it('searches ASIN, title and brand, case-insensitively, with % taken literally', async () => {
      expect(asinsOf(await list('?q=b0pend'))).toEqual(['B0PENDING1']);
      expect(asinsOf(await list('?q=SMART%20speaker'))).toEqual(['B07FZ8S74R']);
      expect(asinsOf(await list('?q=acme'))).toEqual(['B0SCRIPT01']);
      expect(asinsOf(await list('?q=amazon'))).toEqual(['B07FZ8S74R', 'B0CABLE001']);
      expect(asinsOf(await list(`?q=${encodeURIComponent('%')}`))).toEqual([]);
      const both = await list('?q=amazon&ordered=seen');
      expect(asinsOf(both)).toEqual(['B0CABLE001']);
      expect(both).toContain('value="amazon"');
    });

    it('sorts by sources, points, last seen, first seen and title, falling back to sources', async () => {
      expect(asinsOf(await list('?sort=points&dir=desc'))).toEqual(['B0CABLE001', 'B07FZ8S74R', 'B0PENDING1', 'B0SCRIPT01', 'B0MISSED01']);
      expect(asinsOf(await list('?sort=points&dir=asc'))).toEqual(['B0MISSED01', 'B0SCRIPT01', 'B0PENDING1', 'B07FZ8S74R', 'B0CABLE001']);
      expect(asinsOf(await list('?sort=last&dir=desc'))).toEqual(['B0PENDING1', 'B0MISSED01', 'B07FZ8S74R', 'B0SCRIPT01', 'B0CABLE001']);
      expect(asinsOf(await list('?sort=first&dir=asc'))).toEqual(['B0CABLE001', 'B07FZ8S74R', 'B0SCRIPT01', 'B0PENDING1', 'B0MISSED01']);
      // Titles A to Z by default; products without one last, either way.
      const byTitle = await list('?sort=title');
      expect(asinsOf(byTitle)).toEqual(['B0CABLE001', 'B07FZ8S74R', 'B0SCRIPT01', 'B0MISSED01', 'B0PENDING1']);
      expect(byTitle).toContain('<th aria-sort="ascending"><a href="/data/products?sort=title&amp;dir=desc">Title</a></th>');
      expect(asinsOf(await list('?sort=title&dir=desc'))).toEqual(['B0SCRIPT01', 'B07FZ8S74R', 'B0CABLE001', 'B0MISSED01', 'B0PENDING1']);
      expect(asinsOf(await list('?sort=sources&dir=asc'))).toEqual(['B0MISSED01', 'B0SCRIPT01', 'B0CABLE001', 'B0PENDING1', 'B07FZ8S74R']);
      expect(asinsOf(await list('?sort=title;DROP TABLE amazon_products&dir=sideways'))).toEqual(ALL);
    });

    it('escapes titles, brands and what the query says', async () => {
      const page = await list();
      expect(page).not.toContain('<script>');
      expect(page).toContain('Zany &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; puzzle');
      expect(page).toContain('<td>Acme &amp; Co</td>');
      const search = await list(`?q=${encodeURIComponent('"><script>x</script>')}&category=${encodeURIComponent('<b>')}`);
      expect(search).not.toContain('<script>');
      expect(search).not.toContain('<b>');
      expect(search).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
      const product = await get('/data/products/B0SCRIPT01');
      expect(product).not.toContain('<script>');
      expect(product).toContain('<title>Zany &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; puzzle · Webmunk DCS</title>');
    });

    it('shows a product: figures, derived fields, price chart, sightings and the raw metadata', async () => {
      const page = await get('/data/products/B07FZ8S74R');
      expect(page).toContain('href="/data/products" aria-current="page"');
      expect(page).toMatch(/<h1 class="product-heading">Echo Dot \(3rd Gen\) - Smart speaker with Alexa - Charcoal <span class="badge ordered">Ordered<\/span><\/h1>/);
      expect(page).toContain('<a href="https://www.amazon.com/dp/B07FZ8S74R" rel="noreferrer">on Amazon</a>');
      const figures = words(page.slice(page.indexOf('<dl class="figures'), page.indexOf('</dl>')));
      expect(figures).toMatch(/Sources 3 Points 40 First seen 2026-01-05 10:00 Last seen 2026-03-01 10:00 Ordered yes Keepa enriched 1 attempt Enriched at 2026-03-10 12:00/);
      const fields = words(page.slice(page.indexOf('<table class="data fields">'), page.indexOf('</table>', page.indexOf('<table class="data fields">'))));
      expect(fields).toBe('Brand Amazon Manufacturer Amazon Type SPEAKERS Size Without clock Root category 172282 Category tree Electronics &gt; Home Audio &gt; Smart Speakers 172282 &gt; 667846011 &gt; 9818047011 Seller ATVPDKIKX0DER');

      // Two step lines on one axis, a dot with a tooltip per change, and the latest prices.
      const chart = page.slice(page.indexOf('<svg class="chart price-chart"'), page.indexOf('</svg>'));
      expect(chart).toContain('<path class="series series-amazon"');
      expect(chart).toContain('<path class="series series-new"');
      expect(chart.match(/<circle class="dot dot-amazon"/g)).toHaveLength(3);
      expect(chart.match(/<circle class="dot dot-new"/g)).toHaveLength(3);
      expect(chart).toContain('<title>Amazon, 2018-09-20 00:00: $49.99</title>');
      // The out-of-stock time is a gap: the Amazon line starts again (a second M).
      const amazonPath = /class="series series-amazon" d="([^"]+)"/.exec(chart)![1];
      expect(amazonPath.match(/M/g)).toHaveLength(2);
      expect(chart).toContain('>$50.00</text>');
      expect(text(page)).toContain('Amazon now $39.99, lowest $24.99, highest $49.99');
      expect(text(page)).toContain('New now $29.50, lowest $22.99, highest $49.99');

      // Where it was seen: ordered first, then most points; names and labels where known.
      const sightings = page.slice(page.indexOf('<table class="data sightings">'));
      const rows = [...sightings.slice(0, sightings.indexOf('</table>')).matchAll(/<tr><td>(.*?)<\/tr>/gs)].map((m) => words(m[1]));
      expect(rows).toEqual([
        'Alpha &lt;b&gt;participant&lt;/b&gt; src-alpha Webmunk: Amazon Order Items webmunk-amazon-order 2 Ordered 2026-02-01 09:00 2026-02-01 09:00',
        'Alpha &lt;b&gt;participant&lt;/b&gt; src-alpha Webmunk: Static Page Elements Log webmunk-extension-log-elements 30 seen 2026-01-05 10:00 2026-03-01 10:00',
        'src-beta custom-shop-type 8 seen 2026-01-10 10:00 2026-01-11 10:00',
      ]);
      expect(sightings).toContain('<a href="/data/source/src-alpha">Alpha &lt;b&gt;participant&lt;/b&gt;</a>');
      expect(sightings).toContain('<a href="/data/source/src-beta">src-beta</a>');

      expect(page).toMatch(/<details class="keepa-metadata"><summary>[^<]*<\/summary><pre class="json">\{\n {2}&quot;keepa&quot;: \[\n {4}\{/);
      // Price series on one line each; the lists of objects as usual.
      expect(page).toContain('[4059360, 4999, 4200480, 2499, 5100000, -1, 6262560, 3999],');
      expect(page).toContain('&quot;categoryTree&quot;: [\n        {\n          &quot;name&quot;: &quot;Electronics&quot;,');
      expect(page).toContain('&quot;buyBoxSellerId&quot;: &quot;ATVPDKIKX0DER&quot;');
      expect(page).toContain('<a href="/data/support/asin/B07FZ8S74R.json">metadata JSON</a>');
      // An ASIN in lower case is the same product.
      expect(await get('/data/products/b07fz8s74r')).toContain('<h1 class="product-heading">Echo Dot');
    });

    it('shows a product Keepa has not enriched, without a price section', async () => {
      const pending = await get('/data/products/B0PENDING1');
      expect(pending).toContain('<span class="muted">Not enriched yet</span>');
      expect(pending).not.toContain('Price history');
      expect(pending).not.toContain('<svg');
      expect(pending).toContain('No Keepa metadata yet.');
      expect(pending).not.toContain('metadata JSON');
      expect(words(pending)).toContain('Keepa pending 0 attempts; next: as soon as possible');
      expect(pending).toContain('<a href="/data/source/src-beta">src-beta</a>');
      const missed = await get('/data/products/B0MISSED01');
      expect(missed).toContain('Keepa does not know this product');
      expect(words(missed)).toContain('Keepa missed 2 attempts; next: in 3.0 days');
      expect(missed).toContain('No sightings recorded.');
      // Enriched without a price history (history=0): no chart either.
      expect(await get('/data/products/B0CABLE001')).not.toContain('Price history');
    });

    it('answers 404 for an unknown or malformed ASIN', async () => {
      const unknown = await get('/data/products/B000000000', 404);
      expect(unknown).toContain('<h1>Unknown product</h1>');
      expect(unknown).toContain('<code>B000000000</code>');
      expect(unknown).toContain('href="/data/products"');
      const bad = await get(`/data/products/${encodeURIComponent('<b>x</b>')}`, 404);
      expect(bad).not.toContain('<b>');
      expect(bad).toContain('<code>&lt;b&gt;x&lt;/b&gt;</code>');
    });

    it('pages 100 products at a time, keeping filters and sort in the links', async () => {
      await server.db.pool.query(
        `INSERT INTO amazon_products (asin, keepa_state, title, category_tree, sources, points, first_seen, last_seen)
         SELECT 'P' || lpad(n::text, 9, '0'), 'enriched', 'Paged product ' || lpad(n::text, 3, '0'), 'Paged > Test', 1, n, now(), now()
         FROM generate_series(1, 150) AS n`,
      );
      const first = await list('?category=Paged&sort=points&dir=desc');
      expect(asinsOf(first)).toHaveLength(100);
      expect(asinsOf(first)[0]).toBe('P000000150');
      expect(first).toContain('150 matching.');
      expect(first).toContain('href="/data/products?category=Paged&amp;sort=points&amp;dir=desc&amp;page=2" rel="next"');
      const second = await list('?category=Paged&sort=points&dir=desc&page=2');
      expect(asinsOf(second)).toHaveLength(50);
      expect(asinsOf(second).at(-1)).toBe('P000000001');
      // A page past the end shows the last one.
      expect(asinsOf(await list('?category=Paged&page=9'))).toHaveLength(50);
      // Unfiltered, 155 products: 2 pages; the summary counts them all.
      const all = await list();
      expect(asinsOf(all)).toHaveLength(100);
      expect(text(all)).toContain('155 products: 153 enriched, 1 pending, 1 missed; 1 ordered.');
    });
  });
});
