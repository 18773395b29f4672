/**
 * One product (/data/products/<ASIN>): its figures (sources, points, first/last seen, Keepa), the
 * values derived from its Keepa metadata, the Amazon and new price history as an inline SVG step
 * chart, where participants saw it (per source and data type), and the raw metadata. An unknown
 * ASIN is a 404 page.
 */
import type { FastifyInstance } from 'fastify';
import { keepaEntries, priceHistory, type PricePoint } from '../../amazon/keepa-product.ts';
import { niceMaximum } from '../charts.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { dateFormatter, formatAge, formatCount, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { findProduct, listProductSightings, type ProductDetail, type ProductSighting } from '../products.repository.ts';
import { orderedBadge } from './products.page.ts';
import { sendPage } from './page.ts';

const SIGHTINGS_SHOWN = 500;

/** Keepa's marketplaces (KEEPA_DOMAIN) and their currencies; Japan's prices are in 1/100 yen, so shown bare. */
const CURRENCIES: Record<number, string> = { 1: 'USD', 2: 'GBP', 3: 'EUR', 4: 'EUR', 6: 'CAD', 8: 'EUR', 9: 'EUR', 10: 'INR', 11: 'MXN' };

function priceFormatter(keepaDomain: number): (price: number) => string {
  const currency = CURRENCIES[keepaDomain];
  const format = currency
    ? new Intl.NumberFormat('en-US', { style: 'currency', currency })
    : new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return (price) => format.format(price);
}

interface Series {
  key: 'amazon' | 'new';
  label: string;
  points: PricePoint[];
}

const W = 960;
const H = 220;
const LEFT = 64;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 22;
/** Each price change gets a dot with a tooltip, unless a series has more changes than this. */
const MAX_DOTS = 200;

/** Time ticks (UTC) for a span: years, quarters or months, as "2019", or "Jan 2020", "Apr", …. */
function timeTicks(from: number, to: number): Array<[number, string]> {
  const years = (to - from) / (365.25 * 86_400_000);
  const months = years > 4 ? 12 : years > 1.5 ? 3 : 1;
  const ticks: Array<[number, string]> = [];
  const month = dateFormatter('en-US', { timeZone: 'UTC', month: 'short' });
  for (let d = new Date(Date.UTC(new Date(from).getUTCFullYear(), 0, 1)); d.getTime() < to; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1))) {
    if (d.getTime() <= from) continue;
    const year = String(d.getUTCFullYear());
    const label = months === 12 ? year : d.getUTCMonth() === 0 || ticks.length === 0 ? `${month.format(d)} ${year}` : month.format(d);
    ticks.push([d.getTime(), label]);
  }
  return ticks;
}

/**
 * The price histories as step lines (a price holds until the next change; a gap where there was
 * no offer), on one time axis from the first change to `to` (when Keepa was last asked).
 */
export function priceChart(series: readonly Series[], to: Date, timeZone: string, price: (p: number) => string): SafeHtml {
  const times = series.flatMap((s) => s.points.map((p) => Date.parse(p.time)));
  // reduce, not Math.min(...): a long Keepa history has more values than a call takes arguments.
  const from = times.reduce((a, b) => Math.min(a, b), Infinity);
  const end = times.reduce((a, b) => Math.max(a, b), to.getTime()) + 1;
  const maximum = niceMaximum(series.flatMap((s) => s.points).reduce((a, p) => Math.max(a, p.price ?? 0), 0));
  const plotWidth = W - LEFT - RIGHT;
  const plotHeight = H - TOP - BOTTOM;
  const x = (t: number) => (LEFT + ((t - from) / (end - from)) * plotWidth).toFixed(1);
  const y = (p: number) => (TOP + plotHeight - (p / maximum) * plotHeight).toFixed(1);

  const lines = series.map((s) => {
    let d = '';
    let drawing = false;
    s.points.forEach((point, i) => {
      const t = Date.parse(point.time);
      const next = i + 1 < s.points.length ? Date.parse(s.points[i + 1].time) : end;
      if (point.price === null) {
        drawing = false;
        return;
      }
      // A price holds until the next change: a vertical step to it, then flat.
      d += drawing ? ` V${y(point.price)}` : ` M${x(t)} ${y(point.price)}`;
      d += ` H${x(next)}`;
      drawing = true;
    });
    const changes = s.points.filter((p) => p.price !== null);
    const dots = s.points.length <= MAX_DOTS
      ? changes.map((p) => html`<circle class="dot dot-${s.key}" cx="${x(Date.parse(p.time))}" cy="${y(p.price!)}" r="2.5"><title>${s.label}, ${formatDateTime(new Date(p.time), timeZone)}: ${price(p.price!)}</title></circle>`)
      : [];
    return html`<path class="series series-${s.key}" d="${d.trim()}"><title>${s.label} price, ${changes.length} changes</title></path>${dots}`;
  });
  const grid = [maximum, maximum / 2].map((v) => html`<line class="tick" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}"></line>
    <text class="axis-label" x="${LEFT - 6}" y="${(Number(y(v)) + 4).toFixed(1)}" text-anchor="end">${price(v)}</text>`);
  const ticks = timeTicks(from, end).map(([t, label]) => html`<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${TOP}" y2="${TOP + plotHeight}"></line>
    <text class="tick-label" x="${x(t)}" y="${H - 6}" text-anchor="middle">${label}</text>`);
  const counts = series.map((s) => `${s.label} ${s.points.length} changes`).join(', ');
  return html`<svg class="chart price-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Price history: ${counts}">
${grid}${ticks}<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}"></line>
<text class="axis-label" x="${LEFT - 6}" y="${TOP + plotHeight}" text-anchor="end">0</text>${lines}</svg>`;
}

function priceSection(product: ProductDetail, timeZone: string, price: (p: number) => string): SafeHtml {
  // The first entry, as for the other derived values (keepa-product.ts).
  const history = priceHistory(keepaEntries(product.metadata)[0]);
  const series: Series[] = [
    { key: 'amazon', label: 'Amazon', points: history.amazon },
    { key: 'new', label: 'New', points: history.new },
  ];
  const shown = series.filter((s) => s.points.length > 0);
  if (shown.length === 0) return html``;
  const legend = series.map((s) => {
    const prices = s.points.map((p) => p.price).filter((p): p is number => p !== null);
    const latest = s.points.at(-1);
    const now = latest === undefined ? 'no history' : latest.price === null ? 'no offer now' : `now ${price(latest.price)}`;
    const range = prices.length > 0 ? `, lowest ${price(prices.reduce((a, b) => Math.min(a, b)))}, highest ${price(prices.reduce((a, b) => Math.max(a, b)))}` : '';
    return html`<li><span class="swatch${s.key === 'new' ? ' second' : ''}"></span><strong>${s.label}</strong> <span class="muted">${now}${range}</span></li>`;
  });
  return html`<section class="panel prices"><h2>Price history</h2>
    <ul class="legend price-legend">${legend}</ul>
    ${priceChart(shown, product.enrichedAt ?? new Date(), timeZone, price)}
    <p class="muted small">Amazon: Amazon's own offer; New: the lowest new offer, marketplace sellers included. A gap is a time without an offer. From Keepa, as of ${formatDateTime(product.enrichedAt, timeZone)}.</p>
  </section>`;
}

/**
 * JSON indented by 2, with lists of plain values (Keepa's csv price series: thousands of numbers)
 * on one line each. Only a list that opens a line is folded: a string never holds a raw newline.
 */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s*((?:-?[\d.eE+-]+|null|true|false)(?:,\n\s*(?:-?[\d.eE+-]+|null|true|false))*)\n\s*\]/g,
    (_list, items: string) => `[${items.replace(/,\n\s*/g, ', ')}]`,
  );
}

function figures(product: ProductDetail, timeZone: string): SafeHtml {
  const attempts = `${formatCount(product.keepaAttempts)} attempt${product.keepaAttempts === 1 ? '' : 's'}`;
  const next = product.keepaNextAttempt ? formatAge(product.keepaNextAttempt) : 'as soon as possible';
  const when = (date: Date | null) => html`<dd class="when" title="${formatAge(date)}">${formatDateTime(date, timeZone)}</dd>`;
  return html`<dl class="figures product-figures">
    <div><dt>Sources</dt><dd>${formatCount(product.sources)}</dd></div>
    <div><dt>Points</dt><dd>${formatCount(product.points)}</dd></div>
    <div><dt>First seen</dt>${when(product.firstSeen)}</div>
    <div><dt>Last seen</dt>${when(product.lastSeen)}</div>
    <div><dt>Ordered</dt><dd>${product.ordered ? 'yes' : 'no'}</dd></div>
    <div><dt>Keepa</dt><dd class="keepa-${product.keepaState}">${product.keepaState}</dd><dd class="note">${product.keepaState === 'enriched' ? attempts : `${attempts}; next: ${next}`}</dd></div>
    <div><dt>Enriched at</dt>${when(product.enrichedAt)}</div>
  </dl>`;
}

function fieldsTable(product: ProductDetail): SafeHtml {
  const value = (v: string | null) => (v ? v : html`<span class="muted">–</span>`);
  const rows: Array<[string, SafeHtml | string]> = [
    ['Brand', value(product.brand)],
    ['Manufacturer', value(product.manufacturer)],
    ['Type', value(product.productType)],
    ['Size', value(product.size)],
    ['Root category', product.rootCategory && product.rootCategory !== '0' ? html`<span class="mono">${product.rootCategory}</span>` : value(null)],
    ['Category tree', product.categoryTree ? html`${product.categoryTree}<div class="mono small muted">${product.categoryTreeIds}</div>` : value(null)],
    ['Seller', product.seller ? html`<span class="mono">${product.seller}</span>` : value(null)],
  ];
  return html`<table class="data fields"><tbody>${rows.map(([label, v]) => html`<tr><th scope="row">${label}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

function sightingsTable(sightings: readonly ProductSighting[], total: number, timeZone: string): SafeHtml {
  if (sightings.length === 0) return html`<p class="muted">No sightings recorded.</p>`;
  return html`<table class="data sightings"><thead><tr><th>Source</th><th>Data type</th><th class="num">Points</th><th>Ordered</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>
    ${sightings.map((s) => html`<tr><td><a href="/data/source/${encodeURIComponent(s.source)}">${s.name ?? s.source}</a>${s.name ? html` <span class="muted mono small">${s.source}</span>` : ''}</td>
      <td>${s.label ?? s.generatorId}${s.label ? html` <span class="muted mono small">${s.generatorId}</span>` : ''}</td>
      <td class="num">${formatCount(s.points)}</td><td>${s.ordered ? orderedBadge : html`<span class="muted">seen</span>`}</td>
      <td class="nowrap">${formatDateTime(s.firstSeen, timeZone)}</td><td class="nowrap">${formatDateTime(s.lastSeen, timeZone)}</td></tr>`)}</tbody></table>
    ${total > sightings.length ? html`<p class="muted small">and ${formatCount(total - sightings.length)} more (the ${formatCount(sightings.length)} shown are the ordered ones first, then the most points).</p>` : ''}`;
}

// Read-only, from what the harvest and Keepa jobs write: the read replica when there is one.
export function registerProductPage(scope: FastifyInstance, { readPool: pool, config }: DashboardDeps): void {
  scope.get('/products/:asin', async (request, reply) => {
    const asked = (request.params as { asin: string }).asin;
    const asin = asked.trim().toUpperCase();
    const product = /^[A-Z0-9]{10}$/.test(asin) ? await findProduct(pool, asin) : undefined;
    if (!product) {
      return sendPage(request, reply, { status: 404, title: 'Unknown product', current: 'products', body: html`<p class="small"><a href="/data/products">‹ Products</a></p><h1>Unknown product</h1>
        <p>There is no product <code>${asked}</code>. Products appear once the asin-harvest job (every 5 minutes) finds their ASIN in a participant's points.</p>` });
    }
    const tz = config.timeZone;
    const { sightings, total } = await listProductSightings(pool, asin, SIGHTINGS_SHOWN);
    const price = priceFormatter(config.keepaDomain);
    const metadata = product.metadata === null || product.metadata === undefined
      ? html`<p class="muted">No Keepa metadata yet.</p>`
      : html`<details class="keepa-metadata"><summary>Keepa metadata (JSON as stored)</summary><pre class="json">${prettyJson(product.metadata)}</pre></details>`;

    const body = html`<p class="small"><a href="/data/products">‹ Products</a></p>
    <h1 class="product-heading">${product.title ?? html`<span class="muted">${product.keepaState === 'missed' ? 'Keepa does not know this product' : 'Not enriched yet'}</span>`}${product.ordered ? html` ${orderedBadge}` : ''}</h1>
    <p class="product-ids"><span class="mono">${product.asin}</span> · <a href="https://www.amazon.com/dp/${product.asin}" rel="noreferrer">on Amazon</a>
      ${product.metadata === null ? '' : html`· <a href="/data/support/asin/${product.asin}.json">metadata JSON</a>`}</p>
    ${figures(product, tz)}
    <section class="panel"><h2>From Keepa</h2>${fieldsTable(product)}</section>
    ${priceSection(product, tz, price)}
    <section class="panel"><h2>Where it was seen</h2>${sightingsTable(sightings, total, tz)}</section>
    <section class="panel"><h2>Raw Keepa metadata</h2>${metadata}</section>
    <p class="muted small">Times in ${tz}. Added ${formatDateTime(product.addedAt, tz)}, updated ${formatDateTime(product.updatedAt, tz)}.</p>`;
    return sendPage(request, reply, { title: product.title ?? product.asin, current: 'products', body });
  });
}
