/**
 * The upload benchmark's load: realistic uploads and the HTTP load generator that replays them.
 * Shared by the two limits (bench/accept-limit.ts, bench/storage-limit.ts) and the dcs runs
 * (bench/dcs-runs.ts), so all three see exactly the same bytes.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** 64-point gzip form bundles, as current extensions send (issue 9's load). */
const FORM_BUNDLES = Number(process.env.BENCH_FORM_BUNDLES ?? 2100);
/** 100-point uncompressed CREATE bundles (G0/G1a clients); the earlier sessions' mix had 400. */
const JSON_BUNDLES = Number(process.env.BENCH_JSON_BUNDLES ?? 0);

const WORDS = `amazon product charger cable wireless fast usb type portable battery power bank laptop phone
case cover screen protector glass kitchen coffee maker espresso grinder water bottle stainless steel
running shoes jacket winter outdoor camping tent sleeping bag lamp desk chair ergonomic office monitor
keyboard mouse headphones noise cancelling bluetooth speaker smart watch fitness tracker book novel
paperback hardcover kindle edition audible deal price shipping prime delivery tomorrow rating stars
review customer bought also frequently together sponsored brand best seller choice limited time offer`.split(/\s+/);

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
function words(n: number): string {
  return Array.from({ length: n }, () => pick(WORDS)).join(' ');
}
function html(n: number): string {
  return `<div class="s-result-item" data-asin="B0${randomBytes(4).toString('hex').toUpperCase()}"><h2><a href="/dp/x">${words(n)}</a></h2><span class="a-price">$${(random() * 100).toFixed(2)}</span><p>${words(n)}</p></div>`;
}

let counter = 0;
function point(source: string): Record<string, unknown> {
  counter += 1;
  const date = 1_790_000_000_000 + counter * 137;
  const kinds = ['webmunk-extension-element-show', 'webmunk-extension-matched-rule', 'webmunk-extension-class-added', 'rex-history-visit'];
  const generatorId = pick(kinds);
  const body: Record<string, unknown> = generatorId === 'rex-history-visit'
    ? { url: `https://www.example.com/${words(3).replaceAll(' ', '-')}`, title: words(8), visit_id: String(counter), transition: 'link', categories: [pick(WORDS)] }
    : { 'page-id': randomBytes(16).toString('hex'), 'element-class': 'webmunk-asin-item', rule: ':isAmazonProductItem()', 'url*': `https://www.amazon.com/s?k=${pick(WORDS)}`, 'page-title*': words(6), 'element-content*': html(150 + Math.floor(random() * 300)), 'tab-id': 1843211302 };
  return {
    ...body,
    date,
    generatorId,
    'passive-data-metadata': {
      source,
      generator: `${generatorId}: Study Browser Extension/0.39 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36`,
      'generator-id': generatorId,
      timestamp: date / 1000,
      timezone: 'America/New_York',
    },
  };
}

export interface Upload {
  method: 'POST' | 'CREATE';
  headers: Record<string, string>;
  body: Buffer;
  points: number;
  /** What the `bundles` row holds for it: the gzip payload (form) or the JSON text (CREATE). */
  stored: { compression: 'gzip' | 'none'; body: Buffer };
}

export function buildUploads(): Upload[] {
  const uploads: Upload[] = [];
  const sources = Array.from({ length: 200 }, (_, i) => String(48_000_000 + i));
  for (let i = 0; i < FORM_BUNDLES; i++) {
    const source = sources[i % sources.length];
    const points = Array.from({ length: 64 }, () => point(source));
    const gzipped = gzipSync(Buffer.from(JSON.stringify(points, null, 2)));
    uploads.push({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-pdk-identifier': source },
      body: Buffer.from(new URLSearchParams({ compression: 'gzip', payload: gzipped.toString('base64') }).toString()),
      points: 64,
      stored: { compression: 'gzip', body: gzipped },
    });
  }
  for (let i = 0; i < JSON_BUNDLES; i++) {
    const source = sources[i % sources.length];
    const body = Buffer.from(JSON.stringify(Array.from({ length: 100 }, () => point(source)), null, 2));
    uploads.push({ method: 'CREATE', headers: { 'content-type': 'application/json' }, body, points: 100, stored: { compression: 'none', body } });
  }
  // Interleave the two kinds, as a server sees them.
  return uploads.sort(() => random() - 0.5);
}

export interface DriveResult {
  seconds: number;
  failures: number;
  /** Date.now() when the first upload was sent. */
  firstAt: number;
}

/** Sends every upload over CONNECTIONS keep-alive connections; a failure is any reply but 201. */
export async function drive(port: number, uploads: Upload[]): Promise<DriveResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  let failures = 0;
  const firstAt = Date.now();
  const send = (upload: Upload) => new Promise<void>((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/data/add-bundle.json', method: upload.method, agent, headers: { ...upload.headers, 'content-length': upload.body.length } }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 201) failures += 1;
        resolve();
      });
    });
    request.on('error', () => {
      failures += 1;
      resolve();
    });
    request.end(upload.body);
  });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < uploads.length) await send(uploads[next++]);
  }));
  agent.destroy();
  return { seconds: (Date.now() - firstAt) / 1000, failures, firstAt };
}

/** The median of `values` (odd counts: the middle one). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
