/**
 * Real-format points of a made-up study, for the demo study (screenshots, browser tests) and the
 * dashboard benchmark: each type is built from its own sample in sample-points.json, with that
 * type's own fields varied as a participant's browsing varies them (pages, searches, products,
 * scroll offsets, history visits), at a chosen time, from a chosen source and browser.
 */
import { samples, type Point } from './samples.ts';

/**
 * A deterministic pseudo-random sequence in [0, 1) (mulberry32, in 32-bit integer arithmetic), so
 * every run draws the same study. The linear congruential step the demo used before multiplied in
 * floating point beyond 2^53, lost its low bits and fell into short cycles: participants repeated
 * each other's points.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface StudyContext {
  source: string;
  created: Date;
  /** what follows the generator id in `generator`: the extension and the browser's user agent */
  userAgent: string;
  random: () => number;
}

/** Products participants come across (ASIN, title, price, link slug). */
export const STUDY_PRODUCTS: ReadonlyArray<{ asin: string; title: string; price: string; slug: string; seller: string }> = [
  { asin: 'B0BXYZ1234', title: 'Anker USB C Charger 20W, 511 Charger (Nano), PIQ 3.0 Foldable', price: '$15.99', slug: 'Anker-Charger-Foldable-PowerPort-Compatible', seller: 'AnkerDirect' },
  { asin: 'B08L5TNJHG', title: 'Echo Dot (4th Gen) | Smart speaker with Alexa | Charcoal', price: '$24.99', slug: 'Echo-Dot-4th-Gen-Charcoal', seller: 'Amazon.com' },
  { asin: 'B07FZ8S74R', title: 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal', price: '$22.99', slug: 'Echo-Dot-3rd-Gen-Charcoal', seller: 'Amazon.com' },
  { asin: 'B0C1H26C46', title: 'Stanley Quencher H2.0 FlowState Stainless Steel Vacuum Insulated Tumbler 40 oz', price: '$45.00', slug: 'Stanley-Quencher-FlowState-Stainless-Insulated', seller: 'Stanley 1913' },
  { asin: 'B09B8V1LZ3', title: 'Amazon Basics Microfiber Bed Sheet Set, Queen, Dark Grey', price: '$28.99', slug: 'Amazon-Basics-Microfiber-Sheet-Queen', seller: 'Amazon.com' },
];

const SEARCHES = ['usb c charger', 'smart speaker', 'insulated tumbler', 'bed sheets queen', 'wireless earbuds', 'coffee grinder', 'running shoes', 'desk lamp', 'phone case', 'yoga mat'];

const SITES: ReadonlyArray<{ url: string; domain: string; title: string; category: string }> = [
  { url: 'https://www.reuters.com/markets/us/fed-holds-rates-steady-2026-01-28/', domain: 'reuters.com', title: 'Fed holds rates steady | Reuters', category: 'news' },
  { url: 'https://apnews.com/article/winter-storm-travel-delays', domain: 'apnews.com', title: 'Winter storm brings travel delays | AP News', category: 'news' },
  { url: 'https://www.bbc.com/news/science-environment', domain: 'bbc.com', title: 'Science & Environment - BBC News', category: 'news' },
  { url: 'https://www.nytimes.com/section/technology', domain: 'nytimes.com', title: 'Technology - The New York Times', category: 'news' },
  { url: 'https://www.amazon.com/s?k=usb+c+charger', domain: 'amazon.com', title: 'Amazon.com : usb c charger', category: 'shopping' },
  { url: 'https://www.amazon.com/gp/css/order-history', domain: 'amazon.com', title: 'Your Orders', category: 'shopping' },
  { url: 'https://en.wikipedia.org/wiki/Insulated_tumbler', domain: 'wikipedia.org', title: 'Insulated tumbler - Wikipedia', category: 'reference' },
  { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', domain: 'youtube.com', title: 'YouTube', category: 'video' },
];

const RULES = [":isAmazonProductItem('')", '.s-result-item[data-asin]:visible', '#nav-search-bar-form', '.a-carousel-card:not(:has([data-video-url])):visible'];
const TRANSITIONS = ['link', 'link', 'link', 'typed', 'auto_bookmark', 'reload', 'generated'];
const VIEWPORTS: ReadonlyArray<[number, number]> = [[1519, 739], [1280, 633], [1920, 969], [1440, 789]];

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)];

function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/** A browser tab id for the source, the same for all its points of one day. */
function tabId(context: StudyContext): number {
  let hash = Math.floor(context.created.getTime() / 86_400_000);
  for (const c of context.source) hash = (hash * 31 + c.charCodeAt(0)) % 2_000_000_000;
  return 1_000_000_000 + hash % 900_000_000;
}

function searchPage(random: () => number): { url: string; title: string } {
  const search = pick(SEARCHES, random);
  const query = search.replaceAll(' ', '+');
  return { url: `https://www.amazon.com/s?k=${query}&crid=${uuid(random).slice(0, 13).toUpperCase()}&sprefix=${query}%2Caps%2C${100 + Math.floor(random() * 80)}&ref=nb_sb_noss_1`, title: `Amazon.com : ${search}` };
}

/** A search result as element-show and -hide points carry it (sample 2's markup). */
export function productItem(product: (typeof STUDY_PRODUCTS)[number], elementId: string, index: number): string {
  return `<div data-asin="${product.asin}" data-index="${index}" class="sg-col-4-of-24 s-result-item s-asin webmunk-asin-item ${elementId}"><div class="a-section"><h2><a class="a-link-normal" href="/${product.slug}/dp/${product.asin}/ref=sr_1_${index}"><span class="a-text-normal">${product.title}</span></a></h2><span class="a-price"><span class="a-offscreen">${product.price}</span></span></div></div>`;
}

/** The page-element fields shared by element-show, -hide and -click (sample 2's, varied). */
function elementFields(point: Point, random: () => number): void {
  const page = searchPage(random);
  const elementId = `webmunk_id_${uuid(random)}`;
  const index = 1 + Math.floor(random() * 24);
  point['page-id'] = uuid(random);
  point['element-id'] = elementId;
  point['url*'] = page.url;
  point['page-title*'] = page.title;
  point['element-content*'] = productItem(pick(STUDY_PRODUCTS, random), elementId, index);
  point.offset = { top: 420 + Math.floor(index / 4) * 562 + Math.round(random() * 8) / 2, left: 12 + (index % 4) * 200 };
  point.size = { width: 302, height: 480 + Math.round(random() * 160 * 32) / 32 };
}

/** Per type: which sample it starts from and how that type's own fields vary. */
const BUILDERS: Record<string, { sample: (random: () => number) => number; vary: (point: Point, context: StudyContext) => void }> = {
  'webmunk-history-visit': {
    // one visit in eight is filtered by the study's list (sample 22: the URL becomes its category)
    sample: (random) => (random() < 0.125 ? 22 : 21),
    vary(point, { random, created }) {
      const visitId = 40_000 + Math.floor(random() * 60_000);
      const time = created.getTime() + Math.round(random() * 1000) / 1000;
      if (!point.filtered) {
        const site = pick(SITES, random);
        const list = `${site.category}-sites`;
        Object.assign(point, { url: site.url, recorded_url: site.url, domain: site.domain, title: site.title, categories: [site.category], allowed_by_list: list });
        Object.assign(point.allowed_by_list_entry as Record<string, unknown>, { list_name: list, matched_pattern: site.domain, matched_metadata: { category: site.category } });
      }
      const visits = 1 + Math.floor(random() * 6);
      Object.assign(point, {
        date: time, visit_time: time, last_visit_time: time, transition: pick(TRANSITIONS, random), visit_id: String(visitId),
        referring_visit_id: random() < 0.3 ? '0' : String(visitId - 1 - Math.floor(random() * 5)), history_item_id: String(10_000 + Math.floor(random() * 5_000)),
        visit_count: visits, typed_count: Math.floor(random() * visits),
      });
    },
  },
  'webmunk-extension-element-show': { sample: () => 2, vary: (point, { random }) => elementFields(point, random) },
  'webmunk-extension-element-hide': { sample: () => 3, vary: (point, { random }) => elementFields(point, random) },
  'webmunk-extension-element-click': {
    sample: () => 4,
    vary(point, { random }) {
      elementFields(point, random);
      // half the clicks are on a product, half on its Add to Cart button (the sample's)
      if (random() < 0.5) {
        point['element-class'] = 'webmunk-asin-item';
      } else {
        point['element-content*'] = String(samples(4)[0]['element-content*']).replace(/webmunk_id_[0-9a-f-]+/, String(point['element-id']));
        point.size = { width: 96, height: 29 };
      }
      point['page-content*'] = `<head><meta charset="utf-8"><title>${point['page-title*']}</title></head><body class="a-m-us a-aui_72554-c"><div id="a-page">${point['element-content*']}</div></body>`;
    },
  },
  'webmunk-extension-scroll-position': {
    sample: () => 5,
    vary(point, { random }) {
      const page = searchPage(random);
      const [width, height] = pick(VIEWPORTS, random);
      Object.assign(point, { 'page-id': uuid(random), 'url*': page.url, 'page-title*': page.title, top: Math.round(random() * 60) * 100, left: 0, width, height });
    },
  },
  'webmunk-extension-matched-rule': {
    sample: () => 0,
    vary(point, { random }) {
      const page = searchPage(random);
      Object.assign(point, { 'page-id': uuid(random), rule: pick(RULES, random), count: 1 + Math.floor(random() * 60), 'url*': page.url, 'page-title*': page.title });
    },
  },
  'webmunk-amazon-order': {
    // an order of one or two of the products, placed a few days before the extension read it
    sample: () => 10,
    vary(point, { random, created }) {
      const products = random() < 0.7 ? [pick(STUDY_PRODUCTS, random)] : [pick(STUDY_PRODUCTS, random), pick(STUDY_PRODUCTS, random)];
      const [template] = point.items as Array<Record<string, unknown>>;
      const number = `11${Math.floor(random() * 10)}-${String(Math.floor(random() * 1e7)).padStart(7, '0')}-${String(Math.floor(random() * 1e7)).padStart(7, '0')}`;
      const placed = new Date(Math.floor(created.getTime() / 86_400_000 - 1 - random() * 5) * 86_400_000 + 4 * 3_600_000);
      const cents = products.reduce((sum, p) => sum + Math.round(Number(p.price.slice(1)) * 100), 0);
      const tax = Math.round(cents * 0.0625);
      const dollars = (c: number) => `$${(c / 100).toFixed(2)}`;
      Object.assign(point, {
        url: `https://www.amazon.com/gp/your-account/order-details/ref=ppx_yo_dt_b_order_details_o00?ie=UTF8&orderID=${number}`,
        items: products.map((p) => ({ ...template, url: `/gp/product/${p.asin}/ref=ppx_yo_dt_b_asin_title_o00_s00?ie=UTF8&psc=1`, title: p.title, asin: p.asin, price: p.price, seller: p.seller })),
        'order-date': placed.toISOString(), 'order-number': number, 'order-subtotal': dollars(cents), 'order-pretax-total': dollars(cents),
        'order-tax': dollars(tax), 'order-total': dollars(cents + tax), 'order-delivered': new Date(placed.getTime() + 2 * 86_400_000).toISOString(),
      });
      // not delivered yet when the extension read the order: the key is left out, as it then is
      if (Date.parse(String(point['order-delivered'])) > created.getTime()) delete point['order-delivered'];
    },
  },
  'pdk-system-status': {
    // the G2b status point (`pending-points`), as every current bundle carries one
    sample: () => 48,
    vary(point, { random }) {
      point['pending-points'] = Math.floor(random() * 64);
      (point['memory-info'] as Record<string, number>).availableCapacity = Math.floor((2 + random() * 10) * 2 ** 30);
      point['local-storage-bytes'] = 10_000 + Math.floor(random() * 90_000);
    },
  },
};

/** A point of `generatorId` (a type of BUILDERS) as the extension of `context.source` uploads it. */
export function studyPoint(generatorId: string, context: StudyContext, fields: Record<string, unknown> = {}): Point {
  const builder = BUILDERS[generatorId];
  if (!builder) throw new Error(`no study points of type ${generatorId}`);
  const [point] = samples(builder.sample(context.random));
  point.date = context.created.getTime();
  builder.vary(point, context);
  if ('tab-id' in point) point['tab-id'] = tabId(context);
  point.generatorId = generatorId;
  if ('name' in point) point.name = generatorId;
  Object.assign(point, fields);
  const metadata = point['passive-data-metadata']!;
  metadata.source = context.source;
  metadata['generator-id'] = generatorId;
  metadata.generator = `${generatorId}: ${context.userAgent}`;
  metadata.timestamp = Number(point.date) / 1000;
  return point;
}
