/**
 * The HTML part of the ASIN harvest (extract-asins.ts): the attributes of one HTML string that
 * can hold an ASIN, read with htmlparser2's tokenizer (entities decoded) around the few places
 * where one can be, not over the whole text.
 *
 * What is read (as the whole-text parse read it): `href` of `<a>`, `<area>`, `<link>`; the
 * attributes in `ASIN_ATTRIBUTES` of any element; the `value` of an `<input name="ASIN">`; never
 * text, comments, scripts or the other raw-text elements.
 *
 * Tokenizing every byte was the harvest's cost (415 µs for a 30 KB results page, 72 MB/s). Every
 * attribute above that can yield something has, in its raw text, one of the ANCHORS: `asin` in its
 * name (the ASIN attributes), `asin` or a numeric character reference in an input's name, `dp`, `gp`
 * or a numeric character reference in a product link (`obidos` links also hold `asin`; no named
 * entity decodes to these letters). So the tokenizer runs only in windows: from the `<` that opens
 * the tag holding an anchor, to the end of the first tag, comment or raw-text element that ends
 * after it. A window starts where the tokenizer is between tags, so it reads that stretch exactly
 * as a whole-text parse would; text with no anchor is not tokenized at all.
 *
 * Where a window must not start (its `<` is not a tag's), and how that is avoided:
 * - inside a comment, `<?…>`, `<!…>` or a raw-text element (`<script>`, `<style>`, `<title>`,
 *   `<textarea>`, `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`, `<plaintext>`), whose content
 *   can hold `<a href="/dp/…">` in JavaScript strings: their openers are anchors too, so a window
 *   opens on them first and runs to their end, past any anchor inside;
 * - inside a quoted attribute value (`title="a<b"`): a window steps back over a `<` with a quote
 *   between it and the `>` before it.
 * Not covered (the whole-text parse and this one differ): a `<` inside a quoted attribute value
 * that also holds a `>` before it (`title="a>b <a href=/dp/…>"`), and a `<` swallowed by a closing
 * tag's junk (`</b <a href=/dp/…>`). Neither is markup a browser serialises (`outerHTML` escapes
 * `<` and `>` in attribute values); test/amazon/extract-asins-equivalence.test.ts holds the
 * cases that agree.
 */
import { decodeHTMLAttribute } from 'entities';
import { Tokenizer } from 'htmlparser2';

/** Where the HTML's candidates go (extract-asins.ts's collector). */
export interface HtmlSink {
  /** An attribute value that is an ASIN, or is rejected as one. */
  candidate(raw: string, ordered: false): void;
  /** A link, an ASIN if it is an Amazon product URL. */
  url(text: string, ordered: false): void;
}

/**
 * Attributes whose whole value is an ASIN in Amazon markup: `data-asin` (search results, carousels),
 * `data-csa-c-asin` (client-side analytics widgets of product pages), `data-asin-id` (Q&A and
 * review widgets), `data-defaultasin` (variation pickers).
 */
const ASIN_ATTRIBUTES = ['data-asin', 'data-csa-c-asin', 'data-asin-id', 'data-defaultasin'] as const;

const LINK_TAGS: ReadonlySet<string> = new Set(['a', 'area', 'link']);

/** htmlparser2's raw-text and RCDATA elements: their content is not markup. */
const RAW_TEXT_TAGS: ReadonlySet<string> = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);

/** Where an ASIN can be (first four), and where the tokenizer leaves markup (the rest). */
const ANCHORS = /asin|dp|gp|&#|<[!?]|<(?:script|style|title|textarea|xmp|iframe|noembed|noframes|plaintext)/gi;

/** The sink the shared tokenizer reports to (tokenizing is synchronous, so one at a time). */
let sink: HtmlSink | undefined;
/** The window being tokenized: the text from the window's `<` to the end. */
let html = '';
/** A window ends at the first end of markup at or after this index of `html` (its anchor's). */
let windowAnchor = 0;
/** Where the paused window ended, as an index of `html`; -1 while it runs. */
let windowEnd = -1;

/**
 * htmlparser2's tokenizer, driven directly: the Parser above it builds a name and an attribute
 * object for every tag, and decodes every entity in the text, which made a 30 KB page cost
 * 0.9 ms. Here only the attributes that can hold an ASIN are read, and only their entities are
 * decoded.
 */
const tag = { name: '', rawText: false, attribute: '', wanted: false, value: '', inputName: '', inputValue: '' };

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

/** The markup ending at `end` (an index of `html`, exclusive) is done: the window may stop there. */
function markupDone(end: number): void {
  if (end > windowAnchor) {
    windowEnd = end;
    tokenizer.pause();
  }
}

function tagDone(endIndex: number): void {
  if (tag.name === 'input' && tag.inputName.toLowerCase() === 'asin' && sink) sink.candidate(tag.inputValue, false);
  tag.inputName = '';
  tag.inputValue = '';
  // A raw-text element's content follows: the window runs on to its closing tag.
  if (!tag.rawText) markupDone(endIndex + 1);
}

const noop = () => undefined;
const WANTED_ATTRIBUTE_LENGTHS = new Set(['href', 'name', 'value', ...ASIN_ATTRIBUTES].map((name) => name.length));
const tokenizer = new Tokenizer({ decodeEntities: false }, {
  // Most tags and attributes are none of those wanted: their length says so before any slice.
  onopentagname(start, end) {
    const length = end - start;
    tag.name = length === 1 || length === 4 || length === 5 ? html.slice(start, end).toLowerCase() : '';
    tag.rawText = length >= 3 && length <= 9 && RAW_TEXT_TAGS.has(html.slice(start, end).toLowerCase());
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
  // The tokenizer skips what follows a closing tag's name up to its `>`.
  onclosetag(_start, end) {
    const gt = html.indexOf('>', end);
    markupDone(gt < 0 ? html.length : gt + 1);
  },
  // `end`: the `>` that closes them (`<?…>` is a comment in HTML).
  oncdata: (_start, end) => markupDone(end + 1),
  oncomment: (_start, end) => markupDone(end + 1),
  ondeclaration: (_start, end) => markupDone(end + 1),
  onprocessinginstruction: noop,
  ontext: noop,
  ontextentity: noop,
  onend: noop,
});

/**
 * Tokenizes `text` from `start` (a `<` between tags) to the end of the first markup that ends
 * after `anchor`; returns that end.
 */
function tokenizeWindow(text: string, start: number, anchor: number): number {
  html = start === 0 ? text : text.slice(start);
  windowAnchor = anchor - start;
  windowEnd = -1;
  tokenizer.reset();
  tag.wanted = false;
  tag.inputName = '';
  tag.inputValue = '';
  tokenizer.write(html);
  if (windowEnd >= 0) return start + windowEnd;
  tokenizer.end();
  return text.length;
}

const LT = 0x3c;
const GT = 0x3e;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

/**
 * The `<` that opens the tag holding the anchor at `anchor`, not before `from` (a place between
 * tags): the last `<` before it, stepping back over any that may sit in a quoted attribute value
 * (a quote between it and the `>` before it). `from` when there is none. The searches stop at
 * `from`: `lastIndexOf` would run back to the text's start for a quote the page has none of.
 */
function windowStart(text: string, from: number, anchor: number): number {
  let start = anchor;
  while (start >= from && text.charCodeAt(start) !== LT) start--;
  while (start > from) {
    let i = start - 1;
    let quoted = false;
    for (let c = text.charCodeAt(i); i >= from && c !== GT; c = text.charCodeAt(--i)) quoted ||= c === QUOTE || c === APOSTROPHE;
    if (!quoted) break;
    start = i;
    while (start >= from && text.charCodeAt(start) !== LT) start--;
  }
  return start > from ? start : from;
}

/** Reports every candidate of `text` to `into`, as a whole-text tokenizing would (see above). */
export function scanHtml(text: string, into: HtmlSink): void {
  sink = into;
  try {
    ANCHORS.lastIndex = 0;
    let done = 0; // the text before this is read; it ends between tags
    for (let match = ANCHORS.exec(text); match !== null; match = ANCHORS.exec(text)) {
      const anchor = match.index;
      if (anchor < done) {
        ANCHORS.lastIndex = done;
        continue;
      }
      done = tokenizeWindow(text, windowStart(text, done, anchor), anchor);
      if (done >= text.length) break;
      ANCHORS.lastIndex = done;
    }
  } catch {
    // Whatever was found before the failure stays; the tokenizer is reset before its next use.
  } finally {
    sink = undefined;
    html = '';
  }
}
