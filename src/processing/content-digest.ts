/**
 * A point's identity (data_points.content_digest, with `created`): the first 128 bits of the
 * SHA-256 of the point's jsonb text, the text PostgreSQL prints for `point::jsonb::text`, without
 * the `encrypted_transmission` key that processing adds to its metadata. Two points are merged
 * exactly when PostgreSQL would store the same properties for them (the flag aside):
 *  - the same point re-sent, in the same text or with other whitespace, key order or escapes
 *    (`"\u00e9"` or `"é"`), or with a duplicate key whose last value is the same, is merged;
 *  - any other difference is a different point: a sign, a digit, a string, the structure, and a
 *    number's written precision, since PostgreSQL keeps the digits as sent (`1.5` and `1.50`
 *    are stored as sent, so they are two points; `1E2` and `100` print alike: one point). Clients
 *    write numbers with JSON.stringify, so a real retry always has the same digits.
 * The 64-bit jsonb_hash_extended this replaces ignored number signs and cancelled some values and
 * structures out (an XOR of rotated parts): distinct points were silently dropped as duplicates.
 *
 * The text is computed here from the point's own text, as PostgreSQL prints it: object keys in
 * jsonb's order (shorter UTF-8 first, then bytewise), the last of duplicate keys kept, `": "`
 * and `", "` between items, strings with PostgreSQL's escapes (those of JSON.stringify: `\"`,
 * `\\`, `\b \f \n \r \t`, `\u00XX` for the other control characters, nothing else), numbers
 * with their digits as sent (a negative zero without its sign). A number with an exponent is
 * printed by PostgreSQL in full (`1e21` as 22 digits): such a point's digest is left to it
 * (dcs_point_digest(), migration 0009), which is also how existing rows got theirs. Both are
 * compared on a probe point before processing trusts this file (digest-check.ts) and on random
 * values in test/processing/content-digest.test.ts.
 */
import { hash } from 'node:crypto';

const QUOTE = 34;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const MINUS = 45;
const METADATA_KEY = 'passive-data-metadata';
const FLAG_KEY = 'encrypted_transmission';

// The text being read and the reader's position in it. The next backslash is remembered, so that
// strings without escapes cost one indexOf (the closing quote) and a bundle is searched once.
let text = '';
let pos = 0;
let nextBackslash = -1;
/** Cleared when a number needs PostgreSQL to print it. */
let printable = true;

function backslashFrom(from: number): number {
  if (nextBackslash < from) {
    const found = text.indexOf('\\', from);
    nextBackslash = found < 0 ? Infinity : found;
  }
  return nextBackslash;
}

function skipWhitespace(): void {
  for (let c = text.charCodeAt(pos); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++pos));
}

const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);

/**
 * True if the escape `\uXXXX` at `at` is how PostgreSQL writes that character: a control
 * character (below U+0020) other than those with a short escape, in lowercase hex.
 */
function isPostgresUnicodeEscape(at: number): boolean {
  const high = text.charCodeAt(at + 4);
  const low = text.charCodeAt(at + 5);
  if (text.charCodeAt(at + 2) !== 48 || text.charCodeAt(at + 3) !== 48 || (high !== 48 && high !== 49) || !isHexDigit(low)) return false;
  // \u0008 \u0009 \u000a \u000c \u000d: PostgreSQL writes \b \t \n \f \r
  return high === 49 || !(low === 56 || low === 57 || low === 97 || low === 99 || low === 100);
}

/** The string at `pos` (its opening quote), as PostgreSQL prints it. */
function readString(): string {
  const open = pos;
  let from = pos + 1;
  let asPrinted = true;
  let close = text.indexOf('"', from);
  for (let at = backslashFrom(from); at < close; at = backslashFrom(from)) {
    const c = text.charCodeAt(at + 1);
    if (c === 117) { // u
      if (!isPostgresUnicodeEscape(at)) asPrinted = false;
      from = at + 6;
    } else {
      if (c === 47) asPrinted = false; // `\/`: PostgreSQL writes `/`
      from = at + 2;
    }
    if (from > close) close = text.indexOf('"', from); // that quote was escaped
  }
  pos = close + 1;
  const raw = text.slice(open, pos);
  return asPrinted ? raw : JSON.stringify(JSON.parse(raw));
}

function readNumber(): string {
  const start = pos;
  let c = text.charCodeAt(pos);
  if (c === MINUS) c = text.charCodeAt(++pos);
  let nonZero = false;
  for (; (c >= 48 && c <= 57) || c === 46; c = text.charCodeAt(++pos)) if (c > 48) nonZero = true;
  if (c === 101 || c === 69) { // e E
    printable = false;
    c = text.charCodeAt(++pos);
    if (c === 43 || c === MINUS) c = text.charCodeAt(++pos);
    while (c >= 48 && c <= 57) c = text.charCodeAt(++pos);
    return '';
  }
  // PostgreSQL has no negative zero: -0.0 is 0.0.
  return !nonZero && text.charCodeAt(start) === MINUS ? text.slice(start + 1, pos) : text.slice(start, pos);
}

interface Member {
  key: string;
  /** the key as printed, with its quotes */
  printedKey: string;
  value: string;
}

function byAsciiKey(a: Member, b: Member): number {
  return a.key.length - b.key.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function byUtf8Key(a: Member, b: Member): number {
  const x = Buffer.from(a.key, 'utf8');
  const y = Buffer.from(b.key, 'utf8');
  return x.length - y.length || Buffer.compare(x, y);
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 127) return false;
  return true;
}

/** The object at `pos`; `root` for the point itself, `isMetadata` for its metadata object. */
function readObject(root: boolean, isMetadata: boolean): string {
  pos += 1;
  skipWhitespace();
  if (text.charCodeAt(pos) === CLOSE_BRACE) {
    pos += 1;
    return '{}';
  }
  const members: Member[] = [];
  let ascii = true;
  for (;;) {
    skipWhitespace();
    const printedKey = readString();
    const key = printedKey.indexOf('\\') < 0 ? printedKey.slice(1, -1) : JSON.parse(printedKey) as string;
    if (ascii && !isAscii(key)) ascii = false;
    skipWhitespace();
    pos += 1; // :
    const value = readValue(false, root && key === METADATA_KEY);
    if (!(isMetadata && key === FLAG_KEY)) members.push({ key, printedKey, value });
    skipWhitespace();
    if (text.charCodeAt(pos++) === CLOSE_BRACE) break; // else a comma
  }
  members.sort(ascii ? byAsciiKey : byUtf8Key); // stable: duplicate keys stay in their order
  let printed = '';
  for (let i = 0; i < members.length; i++) {
    if (i + 1 < members.length && members[i + 1].key === members[i].key) continue; // the last one counts
    printed += `${printed ? ', ' : '{'}${members[i].printedKey}: ${members[i].value}`;
  }
  return printed ? `${printed}}` : '{}';
}

function readArray(): string {
  pos += 1;
  skipWhitespace();
  if (text.charCodeAt(pos) === CLOSE_BRACKET) {
    pos += 1;
    return '[]';
  }
  let printed = '[';
  for (;;) {
    printed += readValue(false, false);
    skipWhitespace();
    if (text.charCodeAt(pos++) === CLOSE_BRACKET) return `${printed}]`;
    printed += ', ';
  }
}

function readValue(root: boolean, isMetadata: boolean): string {
  skipWhitespace();
  const c = text.charCodeAt(pos);
  if (c === QUOTE) return readString();
  if (c === OPEN_BRACE) return readObject(root, isMetadata);
  if (c === OPEN_BRACKET) return readArray();
  if (c === 116) { pos += 4; return 'true'; }
  if (c === 102) { pos += 5; return 'false'; }
  if (c === 110) { pos += 4; return 'null'; }
  return readNumber();
}

export interface PrintedPoint {
  /** The jsonb text without the processing flag; undefined when PostgreSQL must print it. */
  jsonb: string | undefined;
  /** Offset just past the value in `source`. */
  end: number;
}

/**
 * The jsonb text of the JSON value at `start` in `source` (text JSON.parse has accepted): for a
 * point, its top-level `passive-data-metadata` loses its `encrypted_transmission` key.
 */
export function printJsonb(source: string, start: number): PrintedPoint {
  if (source !== text || start < pos) {
    text = source;
    nextBackslash = -1;
  }
  pos = start;
  printable = true;
  const printed = readValue(true, false);
  return { jsonb: printable ? printed : undefined, end: pos };
}

/** The content digest of a jsonb text: 32 hex digits, the form uuid_in reads. */
export function digestOf(jsonb: string): string {
  return hash('sha256', jsonb, 'hex').slice(0, 32);
}

/** The digest as PostgreSQL prints a uuid (with hyphens) -> 32 hex digits. */
export function digestFromUuid(uuid: string): string {
  return uuid.replaceAll('-', '');
}
