/**
 * Where each point lies in its bundle's JSON text. Processing stores a point from its own text (a
 * slice of the bundle's), not re-serialised from the parsed value: JSON.stringify costs more than
 * JSON.parse on HTML-heavy points (measured, BENCHMARKS.md), and would round every number through
 * a double (large integers would change; PostgreSQL keeps the digits as sent).
 *
 * One pass over valid JSON (the text has already been through JSON.parse), jumping from quote to
 * quote inside strings. For each element of the top-level array it finds:
 *  - its span, if it is an object (other elements are not points and are rejected anyway);
 *  - where its top-level `passive-data-metadata` object ends (the last one: a duplicate key is
 *    read as its last value by JSON.parse and by PostgreSQL alike), so processing can add
 *    `encrypted_transmission` there as text.
 */

export interface PointSpan {
  /** Offsets in the bundle text: [start, end) of the element; -1 when the element is not an object. */
  start: number;
  end: number;
  /** Offset of the `}` that closes the element's `passive-data-metadata` object; -1 if it has none. */
  metadataEnd: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const METADATA_KEY = 'passive-data-metadata';

/** Offset of the quote that ends the string whose content starts at `from`. */
function closingQuote(text: string, from: number): number {
  let quote = text.indexOf('"', from);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
}

function isMetadataKey(text: string, from: number, to: number): boolean {
  if (to - from === METADATA_KEY.length) return text.startsWith(METADATA_KEY, from);
  // The same key written with escapes (`\u002d` for `-`): rare, read it properly.
  return to - from > METADATA_KEY.length && text.slice(from, to).includes('\\') && JSON.parse(text.slice(from - 1, to + 1)) === METADATA_KEY;
}

/** Digits, sign, decimal point, exponent. */
const isNumberCharacter = (c: number) => (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;

/** The span of every element of the JSON array `text` (see above). */
export function scanBundle(text: string): PointSpan[] {
  const spans: PointSpan[] = [];
  let point: PointSpan | undefined; // the object element being read (depth 2)
  let depth = 0;
  let expectKey = false; // inside the element object, the next string is a key
  let lastKeyIsMetadata = false;
  let inMetadata = false; // depth 3 is the element's metadata object
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i + 1);
      if (depth === 1) {
        spans.push({ start: -1, end: -1, metadataEnd: -1 });
      } else if (depth === 2 && expectKey) {
        lastKeyIsMetadata = isMetadataKey(text, i + 1, end);
        expectKey = false;
      }
      i = end + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth === 2) {
        point = { start: c === OPEN_BRACE ? i : -1, end: -1, metadataEnd: -1 };
        spans.push(point);
        expectKey = c === OPEN_BRACE;
      } else if (depth === 3) {
        // Keys are strings, so a container opening at depth 3 is the value of the last key.
        inMetadata = c === OPEN_BRACE && lastKeyIsMetadata && point!.start >= 0;
      }
      i += 1;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 3 && inMetadata) {
        point!.metadataEnd = i;
        inMetadata = false;
      } else if (depth === 2 && point!.start >= 0) {
        point!.end = i + 1;
      }
      depth -= 1;
      i += 1;
    } else if (c === COMMA) {
      if (depth === 2) expectKey = point!.start >= 0;
      i += 1;
    } else if (depth === 1 && (c === 45 || (c >= 48 && c <= 57))) { // a number element
      spans.push({ start: -1, end: -1, metadataEnd: -1 });
      for (i += 1; isNumberCharacter(text.charCodeAt(i)); i++);
    } else if (c === 116 || c === 102 || c === 110) { // true, false, null
      if (depth === 1) spans.push({ start: -1, end: -1, metadataEnd: -1 });
      i += c === 102 ? 5 : 4;
    } else {
      i += 1; // whitespace, ':', a number's characters inside an element
    }
  }
  return spans;
}
