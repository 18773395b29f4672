/**
 * The points of the harvest bench (bench/harvest-bench.ts), shared with the extraction micro-bench
 * (bench/extract-asins-bench.ts) and the fast path's equivalence test
 * (test/amazon/extract-asins-equivalence.test.ts). Templates carry `ASINXXXX` where each point's
 * product page id goes (the bench puts 'B' + 7 hex digits there).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLES = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'sample-points.json'), 'utf8')) as Record<string, unknown>[];

/** A results page of 24 product tiles (the ASIN placeholder is replaced per point). */
export function searchPage(): string {
  const tile = (k: number) => `<div data-asin="ASINXXXX${String(k).padStart(2, '0')}" data-index="${k}" class="s-result-item s-asin"><div class="a-section"><h2><a class="a-link-normal" href="/Product-Name-${k}/dp/ASINXXXX${String(k).padStart(2, '0')}/ref=sr_1_${k}?keywords=usb+c+charger">`
    + `<span class="a-text-normal">Product ${k} with a long descriptive title, 20W, fast charging, compatible with many devices</span></a></h2>`
    + `<span class="a-price"><span class="a-offscreen">$${k}.99</span></span><div class="a-row a-size-small"><span aria-label="4.7 out of 5 stars">★★★★★</span><span>12,345</span></div></div></div>`;
  let html = '<html><head><title>Amazon.com : usb c charger</title></head><body><div id="search"><div class="s-main-slot">';
  for (let k = 0; k < 24; k++) html += tile(k);
  html += '</div></div>';
  while (html.length < 30_000) html += '<div class="a-section a-spacing-none"><span class="a-size-base">Sponsored navigation, filters and footer text that carries no product.</span></div>';
  return `${html}</body></html>`;
}

/**
 * The bench's mix: [point template, share of the points]. `clicks` is the share of element-click
 * points carrying a whole results page (BENCH_HARVEST_CLICKS, default 0.1); the rest keep their
 * proportions: 40% element-show/hide (~700 B of product-tile HTML), 20% log-elements (5 matches),
 * 15% class-added, 10% matched-rule (a URL only), 5% orders.
 */
export function harvestMix(clicks = 0.1): Array<[Record<string, unknown>, number]> {
  const click = { ...SAMPLES[4], 'page-content*': searchPage() };
  const rest = (share: number) => (share * (1 - clicks)) / 0.9;
  const mix: Array<[Record<string, unknown>, number]> = [
    [SAMPLES[2], rest(0.2)], [SAMPLES[3], rest(0.2)], [SAMPLES[6], rest(0.2)], [SAMPLES[1], rest(0.15)], [SAMPLES[0], rest(0.1)], [click, clicks], [SAMPLES[10], rest(0.05)],
  ];
  // log-elements with 5 matches instead of 1
  const log = structuredClone(SAMPLES[6]) as Record<string, Record<string, unknown[]>>;
  const match = log['pattern-matches']["[data-asin!=''][data-asin]"][0];
  log['pattern-matches']["[data-asin!=''][data-asin]"] = [0, 1, 2, 3, 4].map((k) => JSON.parse(JSON.stringify(match).replaceAll('B0BXYZ1234', `ASINXXXX0${k}`)));
  mix[2][0] = log;
  return mix.map(([template, share]) => [JSON.parse(JSON.stringify(template).replaceAll('B0BXYZ1234', 'ASINXXXX00')) as Record<string, unknown>, share]);
}

/** A template with its placeholder replaced by product page `page`, as the bench's SQL does. */
export function harvestPoint(template: Record<string, unknown>, page: number): Record<string, unknown> {
  return JSON.parse(JSON.stringify(template).replaceAll('ASINXXXX', 'B' + page.toString(16).padStart(7, '0').toUpperCase())) as Record<string, unknown>;
}
