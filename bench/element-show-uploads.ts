/**
 * Element-show points as a study's extensions send them, for the export benchmark: each point
 * its own Amazon search-result tile (~1.4 KB of HTML: its product, title, price, rating, image and
 * link, the extension's element id), grouped into pages (one search per page: its URL, title, page
 * id and tab shared by 8-40 tiles seen within seconds), pages spread over a month per source, in
 * several time zones. Nothing repeats that would not repeat in a real study, so the export's
 * archive compresses as a real one does (the real run: 416 bytes per point).
 *
 * The points go to a running server as 64-point gzip form bundles (as current extensions send
 * them), generated as they are sent, so memory stays flat whatever the count.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';

const BRANDS = `Anker Belkin Ugreen Baseus Amazon Basics Logitech Sony Samsung Apple JBL Bose Philips Braun Oral-B
Keurig Ninja Instant Cuisinart Hamilton OXO Lodge Pyrex Rubbermaid Hydro Flask Stanley Yeti Contigo Nike Adidas
Under Armour Columbia Carhartt Levi's Hanes Fruit Crocs Skechers Dell HP Lenovo ASUS Acer Razer Corsair SanDisk
Kingston Crucial Seagate TP-Link Netgear Eero Ring Blink Wyze Kasa Govee Philips-Hue LEGO Hasbro Mattel Melissa
Crayola Sharpie Pilot BIC Post-it Scotch Avery Energizer Duracell Clorox Lysol Tide Bounty Charmin Cottonelle
Pampers Huggies Gillette Dove Neutrogena CeraVe Cetaphil Olay Burt's Nature's Bounty Optimum Garden Vital Proteins`.split(/\s+/);

const WORDS = `charger cable wireless fast usb type portable battery power bank laptop phone case cover screen
protector glass kitchen coffee maker espresso grinder water bottle stainless steel running shoes jacket
winter outdoor camping tent sleeping bag lamp desk chair ergonomic office monitor keyboard mouse headphones
noise cancelling bluetooth speaker smart watch fitness tracker book novel paperback hardcover kindle edition
compatible with iPhone Galaxy Pixel foldable compact travel adapter wall plug dual port braided nylon
durable lightweight waterproof insulated vacuum leakproof reusable BPA free dishwasher safe non-stick
cast iron skillet frying pan set cookware ceramic knife block cutting board silicone spatula measuring cups
storage containers lids airtight pantry organizer shelf rack drawer closet hangers velvet slim space saving
men women kids unisex cotton t-shirt crew neck pack of socks athletic cushioned ankle low cut breathable
memory foam pillow queen king size sheets microfiber deep pocket comforter duvet blanket throw fleece soft
led light bulbs dimmable daylight warm white smart plug works alexa google home hub camera indoor outdoor
security 1080p 2k night vision motion detection two-way audio cloud storage subscription doorbell video
gaming mechanical rgb backlit ergonomic wired wireless rechargeable receiver dpi adjustable silent click
vitamin supplement capsules gummies daily immune support collagen peptides protein powder chocolate vanilla
shampoo conditioner sulfate free moisturizing cream lotion sunscreen spf face wash sensitive skin fragrance
toy building kit blocks pieces ages gift birthday christmas educational learning stem puzzle board game
family card party travel backpack laptop compartment anti theft usb charging port college school business`.split(/\s+/);

const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Phoenix', 'Europe/London'];
const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const IMAGE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-';

/** A seeded generator (the same points on every run). */
class Random {
  constructor(private seed: number) {}
  next(): number {
    // mulberry32
    let t = (this.seed += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number { return Math.floor(this.next() * below); }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]; }
  chars(alphabet: string, n: number): string {
    let text = '';
    for (let i = 0; i < n; i++) text += alphabet[this.int(alphabet.length)];
    return text;
  }
  words(n: number): string { return Array.from({ length: n }, () => this.pick(WORDS)).join(' '); }
  /** A model name or number as product titles carry them (e.g. "PD-20X3", "Nano 3"). */
  model(): string { return this.next() < 0.5 ? `${this.chars(ALPHANUM, 2 + this.int(3))}-${this.chars(ALPHANUM, 2 + this.int(4))}` : `${this.pick(WORDS)} ${this.int(20) + 1}`; }
}

interface Page {
  url: string;
  title: string;
  query: string;
  pageId: string;
  tabId: number;
  crid: string;
  qid: number;
}

function tileHtml(random: Random, page: Page, index: number, elementId: string): string {
  const asin = `B0${random.chars(ALPHANUM, 8)}`;
  const brand = random.pick(BRANDS);
  const title = `${brand} ${random.model()} ${random.words(4 + random.int(10))}, ${random.int(200) + 1}${random.pick(['W', ' Pack', ' oz', ' Count', 'ft', ' inch', 'GB', ''])} ${random.words(1 + random.int(5))}`;
  const slug = title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60);
  // current result links carry a session token (dib) of a few hundred base64 characters
  const href = `/${slug}/dp/${asin}/ref=sr_1_${index}?crid=${page.crid}&amp;dib=eyJ2IjoiMSJ9.${random.chars(IMAGE_CHARS, 100 + random.int(80))}&amp;dib_tag=se&amp;keywords=${encodeURIComponent(page.query).replace(/%20/g, '+')}&amp;qid=${page.qid}&amp;sr=8-${index}`;
  const image = `https://m.media-amazon.com/images/I/${random.chars(IMAGE_CHARS, 11)}._AC_UL320_.jpg`;
  const price = `${random.int(150) + 4}.${String(random.int(100)).padStart(2, '0')}`;
  const [whole, fraction] = price.split('.');
  const rating = (3 + random.int(21) / 10).toFixed(1);
  const reviews = (random.int(90_000) + 3).toLocaleString('en-US');
  const sponsored = random.next() < 0.2 ? '<span class="puis-label-popover-default"><span class="a-color-secondary">Sponsored</span></span>' : '';
  const badge = random.next() < 0.15 ? `<span class="a-badge-label"><span class="a-badge-text">${random.pick(['Best Seller', "Amazon's Choice", 'Limited time deal', 'Climate Pledge Friendly'])}</span></span>` : '';
  const delivery = random.next() < 0.3 ? `<div class="a-row a-color-secondary"><span aria-label="FREE delivery ${random.pick(['Tue', 'Wed', 'Thu', 'Fri', 'Sat'])}, ${random.pick(['Sep', 'Oct', 'Nov'])} ${random.int(28) + 1}"><span class="a-color-base">FREE delivery </span><span class="a-color-base a-text-bold">${random.pick(['Tue', 'Wed', 'Thu', 'Fri', 'Sat'])}, ${random.pick(['Sep', 'Oct', 'Nov'])} ${random.int(28) + 1}</span></span></div>` : '';
  // some extension versions kept the page's own line breaks inside outerHTML
  const newline = random.next() < 0.1 ? '\n' : '';
  return `<div data-asin="${asin}" data-index="${index}" data-component-type="s-search-result" class="s-result-item s-asin webmunk-asin-item ${elementId}">${newline}`
    + `<div class="a-section a-spacing-base"><span data-component-type="s-product-image" class="rush-component"><a class="a-link-normal s-no-outline" tabindex="-1"><img class="s-image" src="${image}" alt="" data-image-index="${index}"></a></span>`
    + `<div class="a-section a-spacing-small">${sponsored}<h2 class="a-size-mini s-line-clamp-4"><a class="a-link-normal a-text-normal" href="${href}"><span class="a-size-base-plus a-color-base a-text-normal">${title}</span></a></h2>${badge}`
    + `<div class="a-row a-size-small"><span class="a-icon-alt">${rating} out of 5 stars</span><span aria-label="${reviews}"><span class="a-size-base s-underline-text">${reviews}</span></span></div>`
    + `<div class="a-row"><span class="a-price" data-a-size="xl"><span class="a-offscreen">$${price}</span><span aria-hidden="true">$${whole}<sup>${fraction}</sup></span></span></div>${delivery}</div></div></div>`;
}

function randomUuid(random: Random): string {
  const hex = random.chars('0123456789abcdef', 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/** The identifier of the bench's `index`-th element-show source. */
export const elementShowSource = (index: number): string => String(31_000_000 + index * 7919);

/**
 * The user agent the `index`-th source's extension reports: most the study's build in desktop
 * Chrome; one source in 50 a headless Chrome (the team's automated checks), one in 100 a
 * pre-release build of the extension. Chosen by index, not drawn, so the rest of the data is
 * the same as before these were added. The exclusion-rule bench (export-rules.ts) names them.
 */
export function elementShowUserAgent(index: number): string {
  const chrome = index % 50 === 7 ? 'HeadlessChrome/124.0.0.0' : 'Chrome/124.0.0.0';
  const build = index % 100 === 42 ? '0.33' : '0.39';
  return `Study Browser Extension/${build} Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ${chrome} Safari/537.36`;
}

/** One source's points, newest pages last, as its extension would send them over a month. */
function* sourcePoints(random: Random, source: string, userAgent: string, count: number, endMs: number): Generator<Record<string, unknown>> {
  const zone = random.pick(ZONES);
  const tabs = Array.from({ length: 3 + random.int(5) }, () => 1_800_000_000 + random.int(100_000_000));
  let time = endMs - 30 * 86_400_000 + random.int(86_400_000);
  const step = (30 * 86_400_000) / Math.max(1, count);
  let made = 0;
  while (made < count) {
    const query = random.words(1 + random.int(4));
    const crid = random.chars(ALPHANUM, 13);
    const qid = Math.floor(time / 1000);
    const page: Page = {
      query, crid, qid, pageId: randomUUID(), tabId: random.pick(tabs),
      url: `https://www.amazon.com/s?k=${encodeURIComponent(query).replace(/%20/g, '+')}&crid=${crid}&qid=${qid}&sprefix=${encodeURIComponent(query.slice(0, 6))}%2Caps%2C${100 + random.int(300)}&ref=nb_sb_noss_${1 + random.int(2)}`,
      title: `Amazon.com : ${query}`,
    };
    const tiles = Math.min(count - made, 8 + random.int(33));
    let top = 300 + random.int(400) + random.pick([0, 0.5, 0.25, 0.75]);
    for (let i = 1; i <= tiles; i++) {
      time += 200 + random.int(3_000);
      const elementId = `webmunk_id_${randomUuid(random)}`;
      const date = Math.round(time);
      yield {
        'page-id': page.pageId,
        'element-id': elementId,
        'element-class': 'webmunk-asin-item',
        'url*': page.url,
        'page-title*': page.title,
        'element-content*': tileHtml(random, page, i, elementId),
        offset: { top, left: [212, 548.5, 884, 1220.25][i % 4] },
        size: { width: 302 + random.int(40), height: 480 + random.int(120) + random.int(1000) / 1000 },
        'tab-id': page.tabId,
        date,
        generatorId: 'webmunk-extension-element-show',
        'passive-data-metadata': {
          source,
          generator: `webmunk-extension-element-show: ${userAgent}`,
          'generator-id': 'webmunk-extension-element-show',
          timestamp: date / 1000,
          timezone: zone,
        },
      };
      if (i % 4 === 0) top += 560 + random.int(200) + random.pick([0, 0.5]);
    }
    made += tiles;
    time += Math.max(step * tiles - 3_000 * tiles, 60_000);
  }
}

/** The form bodies (64 points, gzip), sources taking turns as their extensions upload. */
function* bundleBodies(points: number, sources: number, pointsPerBundle: number): Generator<{ body: string; points: number; jsonBytes: number }> {
  const random = new Random(17);
  const endMs = Date.UTC(2026, 10, 20);
  const perSource = Math.ceil(points / sources);
  const streams = Array.from({ length: sources }, (_, i) => {
    const count = Math.max(0, Math.min(perSource, points - i * perSource));
    return sourcePoints(random, elementShowSource(i), elementShowUserAgent(i), count, endMs);
  });
  let live = streams.length;
  while (live > 0) {
    live = 0;
    for (const stream of streams) {
      const batch: Record<string, unknown>[] = [];
      for (let i = 0; i < pointsPerBundle; i++) {
        const next = stream.next();
        if (next.done) break;
        batch.push(next.value);
      }
      if (batch.length === 0) continue;
      live += 1;
      const json = JSON.stringify(batch, null, 2);
      const payload = gzipSync(json).toString('base64');
      yield { body: new URLSearchParams({ compression: 'gzip', payload }).toString(), points: batch.length, jsonBytes: json.length };
    }
  }
}

export interface UploadRun {
  seconds: number;
  uploads: number;
  points: number;
  failures: number;
  /** the points' JSON as the extension sent it (pretty-printed), in bytes */
  jsonBytes: number;
}

/** Sends `points` element-show points of `sources` sources to `port` over `connections` connections. */
export async function uploadElementShowPoints(port: number, points: number, sources: number, connections = 16, onProgress: (sent: number) => void = () => undefined): Promise<UploadRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const bodies = bundleBodies(points, sources, 64);
  const run: UploadRun = { seconds: 0, uploads: 0, points: 0, failures: 0, jsonBytes: 0 };
  const started = performance.now();
  const send = (body: string) => new Promise<boolean>((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/data/add-bundle.json', method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 201));
    });
    request.on('error', () => resolve(false));
    request.end(body);
  });
  await Promise.all(Array.from({ length: connections }, async () => {
    for (let next = bodies.next(); !next.done; next = bodies.next()) {
      const { body, points: count, jsonBytes } = next.value;
      if (!(await send(body))) run.failures += 1;
      run.uploads += 1;
      run.points += count;
      run.jsonBytes += jsonBytes;
      if (run.uploads % 500 === 0) onProgress(run.points);
    }
  }));
  agent.destroy();
  run.seconds = (performance.now() - started) / 1000;
  return run;
}
