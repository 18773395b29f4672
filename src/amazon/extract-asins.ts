/**
 * Harvest of Amazon product ids (ASINs) from one Webmunk data point (webmunk-clients.md §3.1–3.2, §4).
 *
 * Unlike the original job (webmunk-server.md §4.1), which ran `/dp/(.+?)/` and `data-asin="(.+?)"`
 * regexes over raw text and stored whatever came out (quotes, entities, `ref=` fragments, empty
 * strings), this module:
 * - parses URLs with the WHATWG parser and looks only at path segments of Amazon hosts (or relative
 *   links, resolved against https://www.amazon.com/), so `/dp/B0XXXXXXXX?ref=…` without a later slash
 *   is found, and `&amp;`, `#…`, `?…` never leak into an ASIN;
 * - parses HTML with htmlparser2's streaming tokenizer (entities decoded), so only real attribute
 *   values count, and only around the places an ASIN can be (scan-html.ts);
 * - validates every candidate (`normalizeAsin`) and counts the ones it throws away;
 * - reads both the `*` field (decrypted in the Apr 2022 – Feb 2023 era) and its `!` plaintext twin.
 *
 * Where ASINs are looked for:
 * - `webmunk-amazon-order`: `items[].asin` and `items[].url` (ordered), the point's `url` (seen).
 * - `pdk-external-amazon-item` (a participant's donated order history, one item per point): `asin` (ordered).
 * - page-bearing types (`ASIN_TYPES` minus the order type): `url*`, `url!`, `url` (product-page
 *   URLs), `element-content*`/`!`, `page-content*`/`!` and, for every selector of `pattern-matches`,
 *   each match's `element-content*`/`!` (HTML). In HTML: `href` of `<a>`, `<area>`, `<link>`
 *   (e.g. `rel=canonical`); the attributes in scan-html.ts's `ASIN_ATTRIBUTES` of any element; and the `value` of an
 *   `<input name="ASIN">` (the add-to-cart form of a product page).
 * - any other generator id: nothing.
 *
 * Shortcuts, for speed (most points are search pages or unrelated HTML):
 * - an HTML string is parsed only if it contains `asin`, `/dp/`, `/gp/` or `obidos`
 *   (case-insensitive). Every ASIN source above contains one of those literally, except links whose
 *   slashes are written as entities (`&#47;dp&#47;`) or percent-escapes, which are not looked for;
 *   then only around its anchors (scan-html.ts);
 * - a URL string is parsed only if it contains `dp`, `gp` or `obidos` (case-insensitive);
 * - identical strings within one point (the `*` and `!` twins usually are) are scanned once.
 */
import { openField } from '../crypto/field-encryption.ts';
import { DONATED_ITEM_TYPE, ORDER_TYPE, PAGE_TYPES } from './harvested-types.ts';
import { scanHtml, type HtmlSink } from './scan-html.ts';

export interface FoundAsins {
  /** ASIN (normalised upper case) → true if the point is an order containing it (ordered), false if only seen */
  asins: Map<string, boolean>;
  /**
   * Candidates found but rejected by validation (bad length/characters), for counting: distinct
   * trimmed candidate strings within the point (a value found in both twins counts once).
   */
  rejected: number;
}

export { ASIN_TYPES } from './harvested-types.ts';

const ASIN_SHAPE = /^[A-Z0-9]{10}$/;
const HAS_LETTER = /[A-Z]/;
const ISBN10 = /^[0-9]{9}[0-9X]$/;

/**
 * Normalises and validates a candidate: trims, upper-cases; valid = exactly 10 chars [A-Z0-9] AND
 * (contains at least one letter, or is an ISBN-10: 9 digits + digit or X). Returns the ASIN or
 * undefined.
 *
 * All ten-digit strings are accepted as ISBN-10s (no check-digit test), so in effect any ten
 * characters of [A-Z0-9] are valid.
 */
export function normalizeAsin(candidate: string): string | undefined {
  if (typeof candidate !== 'string') return undefined;
  const asin = candidate.trim().toUpperCase();
  if (!ASIN_SHAPE.test(asin)) return undefined;
  return HAS_LETTER.test(asin) || ISBN10.test(asin) ? asin : undefined;
}

const BASE = 'https://www.amazon.com/';
/** amazon.com, www.amazon.de, smile.amazon.co.uk, m.amazon.com.au, … (not a.co, amzn.to: short links hold no ASIN). */
const AMAZON_HOST = /^(?:[a-z0-9-]+\.)*amazon\.[a-z]{2,3}(?:\.[a-z]{2})?\.?$/;
const URL_HINT = /dp|gp|obidos/i;
const HTML_HINT = /asin|\/dp\/|\/gp\/|obidos/i;

/**
 * The raw ASIN segment of a product URL ('' when the product path has no id after it), or
 * undefined when the text is not an Amazon product URL.
 */
function productSegment(text: string): string | undefined {
  if (!URL_HINT.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text, BASE);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (!AMAZON_HOST.test(url.hostname)) return undefined;
  const segments = url.pathname.split('/');
  const lower = (i: number) => (segments[i] ?? '').toLowerCase();
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.length > 4) continue;
    const name = segment.toLowerCase();
    let at = -1;
    if (name === 'dp') at = i + 1; // /dp/<ASIN>, /<slug>/dp/<ASIN>
    else if (name === 'gp') {
      if (lower(i + 1) === 'product') at = i + 2; // /gp/product/<ASIN>
      else if (lower(i + 1) === 'aw' && lower(i + 2) === 'd') at = i + 3; // /gp/aw/d/<ASIN> (mobile)
    } else if (name === 'exec' && lower(i + 1) === 'obidos' && lower(i + 2) === 'asin') at = i + 3; // /exec/obidos/ASIN/<ASIN>
    if (at < 0) continue;
    return decodeSegment(segments[at] ?? '');
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * ASIN from one URL string (absolute or relative, resolved against https://www.amazon.com/), or
 * undefined. Paths: /dp/<ASIN> (also after a product-name slug), /gp/product/<ASIN>,
 * /gp/aw/d/<ASIN>, /exec/obidos/ASIN/<ASIN>; path keywords are matched case-insensitively and the
 * ASIN segment is percent-decoded. Only http(s) URLs on amazon hosts count.
 */
export function asinFromUrl(text: string): string | undefined {
  if (typeof text !== 'string') return undefined;
  const segment = productSegment(text);
  return segment === undefined ? undefined : normalizeAsin(segment);
}

/** What one point yields, while it is being scanned. */
class Collector implements HtmlSink {
  readonly asins = new Map<string, boolean>();
  readonly rejected = new Set<string>();
  private readonly scanned: string[] = [];

  candidate(raw: unknown, ordered: boolean): void {
    if (typeof raw !== 'string') return;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const asin = normalizeAsin(trimmed);
    if (asin === undefined) this.rejected.add(trimmed);
    else if (ordered) this.asins.set(asin, true);
    else if (!this.asins.has(asin)) this.asins.set(asin, false);
  }

  url(text: unknown, ordered: boolean): void {
    if (typeof text !== 'string' || text === '') return;
    const segment = productSegment(text);
    if (segment !== undefined) this.candidate(segment, ordered);
  }

  /** A top-level page URL field: scanned once per distinct string. */
  pageUrl(text: unknown): void {
    if (typeof text !== 'string' || text === '' || this.seen(text)) return;
    this.url(text, false);
  }

  html(text: unknown): void {
    if (typeof text !== 'string' || text === '' || this.seen(text)) return;
    if (!HTML_HINT.test(text)) return;
    scanHtml(text, this);
  }

  private seen(text: string): boolean {
    if (this.scanned.includes(text)) return true;
    this.scanned.push(text);
    return false;
  }
}

/** The plain value of a `*` field, or undefined when it is encrypted and cannot be opened. */
function plain(value: unknown, generatedKey: unknown, serverSecretKey: Uint8Array | undefined): unknown {
  if (value === undefined) return undefined;
  const opened = openField(value, generatedKey, serverSecretKey);
  return opened.ok ? opened.value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every ASIN in one point. `serverSecretKey` decrypts encrypted-era `*` fields (with the point's
 * `passive-data-metadata.generated-key`); a `*` value that cannot be opened is skipped and the `!`
 * twin is relied on. Never throws.
 */
export function extractAsins(
  generatorId: string,
  properties: Record<string, unknown>,
  serverSecretKey?: Uint8Array,
): FoundAsins {
  const found = new Collector();
  try {
    if (isObject(properties)) {
      if (generatorId === ORDER_TYPE) scanOrder(found, properties);
      else if (generatorId === DONATED_ITEM_TYPE) found.candidate(properties.asin, true);
      else if (PAGE_TYPES.has(generatorId)) scanPage(found, properties, serverSecretKey);
    }
  } catch {
    // Odd input: keep what was found.
  }
  return { asins: found.asins, rejected: found.rejected.size };
}

function scanOrder(found: Collector, point: Record<string, unknown>): void {
  const items = point.items;
  if (Array.isArray(items)) {
    for (const item of items) {
      if (!isObject(item)) continue;
      found.candidate(item.asin, true);
      found.url(item.url, true);
    }
  }
  found.url(point.url, false);
}

function scanPage(found: Collector, point: Record<string, unknown>, serverSecretKey: Uint8Array | undefined): void {
  const metadata = point['passive-data-metadata'];
  const generatedKey = isObject(metadata) ? metadata['generated-key'] : undefined;
  const open = (value: unknown) => plain(value, generatedKey, serverSecretKey);

  found.pageUrl(open(point['url*']));
  found.pageUrl(point['url!']);
  found.pageUrl(point.url);

  found.html(open(point['element-content*']));
  found.html(point['element-content!']);
  found.html(open(point['page-content*']));
  found.html(point['page-content!']);

  const patternMatches = point['pattern-matches'];
  if (isObject(patternMatches)) {
    for (const matches of Object.values(patternMatches)) {
      if (!Array.isArray(matches)) continue;
      for (const match of matches) {
        if (!isObject(match)) continue;
        found.html(open(match['element-content*']));
        found.html(match['element-content!']);
      }
    }
  }
}
