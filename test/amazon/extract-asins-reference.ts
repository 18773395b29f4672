/**
 * The ASIN extraction as it was before the HTML fast path (issue 22 §2), verbatim: the whole-text
 * tokenizing that test/amazon/extract-asins-equivalence.test.ts holds scan-html.ts's windows to.
 * Not for production code.
 */
import { decodeHTMLAttribute } from 'entities';
import { Tokenizer } from 'htmlparser2';
import { openField } from '../../src/crypto/field-encryption.ts';

export interface FoundAsins {
  /** ASIN (normalised upper case) → true if the point is an order containing it (ordered), false if only seen */
  asins: Map<string, boolean>;
  /**
   * Candidates found but rejected by validation (bad length/characters), for counting: distinct
   * trimmed candidate strings within the point (a value found in both twins counts once).
   */
  rejected: number;
}

const ORDER_TYPE = 'webmunk-amazon-order';
const DONATED_ITEM_TYPE = 'pdk-external-amazon-item';

/** Point types whose `url*`, `element-content*`, `page-content*` or `pattern-matches` can show products. */
const PAGE_TYPES: ReadonlySet<string> = new Set([
  'webmunk-extension-matched-rule',
  'webmunk-extension-class-added',
  'webmunk-extension-element-show',
  'webmunk-extension-element-hide',
  'webmunk-extension-element-click',
  'webmunk-extension-log-elements',
  // Carries only `url*`, but a scroll on a product page is a sighting of that product.
  'webmunk-extension-scroll-position',
]);


/**
 * Attributes whose whole value is an ASIN in Amazon markup: `data-asin` (search results, carousels),
 * `data-csa-c-asin` (client-side analytics widgets of product pages), `data-asin-id` (Q&A and
 * review widgets), `data-defaultasin` (variation pickers).
 */
const ASIN_ATTRIBUTES = ['data-asin', 'data-csa-c-asin', 'data-asin-id', 'data-defaultasin'] as const;

const LINK_TAGS: ReadonlySet<string> = new Set(['a', 'area', 'link']);

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
function normalizeAsin(candidate: string): string | undefined {
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

/** What one point yields, while it is being scanned. */
class Collector {
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
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the tokenizer's callbacks are shared: they reach this extractor through `sink`
    sink = this;
    html = text;
    try {
      tokenizer.reset();
      tokenizer.write(text);
      tokenizer.end();
    } catch {
      // Whatever was found before the failure stays; the parser is reset before its next use.
    } finally {
      sink = undefined;
      html = '';
    }
  }

  private seen(text: string): boolean {
    if (this.scanned.includes(text)) return true;
    this.scanned.push(text);
    return false;
  }
}

/** The collector the shared tokenizer reports to (tokenizing is synchronous, so one at a time). */
let sink: Collector | undefined;
let html = '';

/**
 * htmlparser2's tokenizer, driven directly: the Parser above it builds a name and an attribute
 * object for every tag, and decodes every entity in the text, which made a 30 KB page cost
 * 0.9 ms. Here only the attributes that can hold an ASIN are read, and only their entities are
 * decoded.
 */
const tag = { name: '', attribute: '', wanted: false, value: '', inputName: '', inputValue: '' };

function attributeDone(): void {
  const into = sink;
  if (!into || !tag.wanted) return;
  const value = tag.value.includes('&') ? decodeHTMLAttribute(tag.value) : tag.value;
  const name = tag.attribute;
  if (name === 'href') into.url(value, false);
  else if (tag.name === 'input' && name === 'name') tag.inputName = value;
  else if (tag.name === 'input' && name === 'value') tag.inputValue = value;
  else into.candidate(value, false);
}

function tagDone(): void {
  if (tag.name === 'input' && tag.inputName.toLowerCase() === 'asin' && sink) sink.candidate(tag.inputValue, false);
  tag.inputName = '';
  tag.inputValue = '';
}

const noop = () => undefined;
const WANTED_ATTRIBUTE_LENGTHS = new Set(['href', 'name', 'value', ...ASIN_ATTRIBUTES].map((name) => name.length));
const tokenizer = new Tokenizer({ decodeEntities: false }, {
  // Most tags and attributes are none of those wanted: their length says so before any slice.
  onopentagname(start, end) {
    const length = end - start;
    tag.name = length === 1 || length === 4 || length === 5 ? html.slice(start, end).toLowerCase() : '';
  },
  onattribname(start, end) {
    if (!WANTED_ATTRIBUTE_LENGTHS.has(end - start)) {
      tag.wanted = false;
      return;
    }
    const name = html.slice(start, end).toLowerCase();
    tag.attribute = name;
    tag.value = '';
    tag.wanted = (ASIN_ATTRIBUTES as readonly string[]).includes(name)
      || (name === 'href' && LINK_TAGS.has(tag.name))
      || (tag.name === 'input' && (name === 'name' || name === 'value'));
  },
  onattribdata(start, end) {
    if (tag.wanted) tag.value += html.slice(start, end);
  },
  onattribentity: noop,
  onattribend() {
    attributeDone();
    tag.wanted = false;
  },
  onopentagend: tagDone,
  onselfclosingtag: tagDone,
  onclosetag: noop,
  oncdata: noop,
  oncomment: noop,
  ondeclaration: noop,
  onend: noop,
  onprocessinginstruction: noop,
  ontext: noop,
  ontextentity: noop,
});

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
export function extractAsinsReference(
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
