/**
 * A point's content hash, computed here exactly as PostgreSQL's `jsonb_hash_extended(point, 0)`
 * computes it, which is what data_points.content_hash has always held (the unique key, exports
 * and the ASIN harvest use it, so it must never change). Computing it here spares PostgreSQL a walk
 * over every point and lets processing COPY finished rows.
 *
 * PostgreSQL (src/backend/utils/adt/jsonb_op.c, jsonb_util.c, common/hashfn.c, numeric.c):
 *  - the jsonb is walked in its stored order: object keys sorted by UTF-8 length, then bytewise,
 *    duplicate keys reduced to their last value (JSON.parse does the same), each key followed by
 *    its value; array elements in order;
 *  - the 64-bit hash starts at 0 (an empty root object or array hashes to 0); opening an object
 *    XORs 0x20000000 into both 32-bit halves, opening an array 0x40000000; each key, string,
 *    number, boolean and null rotates both halves left by one bit and XORs in its own hash;
 *  - a string's hash is hash_bytes_extended (Bob Jenkins' lookup3, 64-bit, seed 0) of its UTF-8
 *    bytes; true is 2, false 4, null 1;
 *  - a number's is hash_bytes_extended of its base-10000 digits (int16 each, little-endian, leading
 *    and trailing zero digits dropped) XOR its weight (the power of 10000 of the first digit, sign
 *    extended); zero hashes to all ones; the sign is not hashed.
 * Numbers are taken from the parsed double, so a point whose text has a number the double does not
 * hold exactly must be hashed by PostgreSQL (point-text.ts finds them). Word reads are in this
 * machine's byte order and PostgreSQL's reads are in its own: checkNodeHashing() compares both
 * on a probe point before processing trusts this.
 */

let scratch = new Uint8Array(64 * 1024);
let scratchBuffer = Buffer.from(scratch.buffer);
let scratchWords = new Int32Array(scratch.buffer);

function ensureScratch(bytes: number): void {
  if (bytes <= scratch.length) return;
  scratch = new Uint8Array(Math.max(bytes, scratch.length * 2) + 4);
  scratchBuffer = Buffer.from(scratch.buffer);
  scratchWords = new Int32Array(scratch.buffer, 0, scratch.length >> 2);
}

// The result of hashScratch and the running hash of hashJsonValue: 32-bit halves, as int32.
let bytesHigh = 0;
let bytesLow = 0;
let high = 0;
let low = 0;

/** hash_bytes_extended(scratch[0, length), seed 0) into bytesHigh (b) and bytesLow (c). */
function hashScratch(length: number): void {
  let a = (0x9e3779b9 + length + 3923095) | 0;
  let b = a;
  let c = a;
  const bytes = scratch;
  const words = scratchWords;
  let word = 0;
  let left = length;
  while (left >= 12) {
    a = (a + words[word]) | 0;
    b = (b + words[word + 1]) | 0;
    c = (c + words[word + 2]) | 0;
    // mix(a, b, c)
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    word += 3;
    left -= 12;
  }
  const at = word * 4;
  /* eslint-disable no-fallthrough */
  switch (left) {
    case 11: c = (c + (bytes[at + 10] << 24)) | 0;
    case 10: c = (c + (bytes[at + 9] << 16)) | 0;
    case 9: c = (c + (bytes[at + 8] << 8)) | 0;
    case 8: b = (b + words[word + 1]) | 0; a = (a + words[word]) | 0; break;
    case 7: b = (b + (bytes[at + 6] << 16)) | 0;
    case 6: b = (b + (bytes[at + 5] << 8)) | 0;
    case 5: b = (b + bytes[at + 4]) | 0;
    case 4: a = (a + words[word]) | 0; break;
    case 3: a = (a + (bytes[at + 2] << 16)) | 0;
    case 2: a = (a + (bytes[at + 1] << 8)) | 0;
    case 1: a = (a + bytes[at]) | 0;
  }
  /* eslint-enable no-fallthrough */
  // final(a, b, c)
  c ^= b; c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c; a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a; b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b; c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c; a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a; b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b; c = (c - ((b << 24) | (b >>> 8))) | 0;
  bytesHigh = b;
  bytesLow = c;
}

/** Rotates both halves of the running hash left by one bit and XORs in (h, l). */
function combine(h: number, l: number): void {
  high = ((high << 1) | (high >>> 31)) ^ h;
  low = ((low << 1) | (low >>> 31)) ^ l;
}

/** Hashes of object keys seen: points of a type share their keys (and V8 interns them). */
const keyHashes = new Map<string, { high: number; low: number }>();
const MAX_KEYS = 4096;

function hashKey(key: string): void {
  const cached = keyHashes.get(key);
  if (cached) return combine(cached.high, cached.low);
  hashString(key);
  if (keyHashes.size >= MAX_KEYS) keyHashes.clear();
  keyHashes.set(key, { high: bytesHigh, low: bytesLow });
}

function hashString(value: string): void {
  let length = value.length;
  if (length <= 32) {
    // Short strings (keys, mostly): copying ASCII here beats a call into C++.
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code > 127) {
        length = -1;
        break;
      }
      scratch[i] = code;
    }
  } else {
    length = -1;
  }
  if (length < 0) {
    ensureScratch(value.length * 3);
    length = scratchBuffer.write(value, 0, 'utf8');
  }
  hashScratch(length);
  combine(bytesHigh, bytesLow);
}

/** Base-10000 digits of the number being hashed, most significant first (then in scratch). */
const groups = new Int32Array(16);

/** Hashes groups[0, count) (leading and trailing zero digits already dropped) with its weight. */
function hashGroups(count: number, weight: number): void {
  for (let i = 0; i < count; i++) {
    scratch[i * 2] = groups[i] & 0xff;
    scratch[i * 2 + 1] = groups[i] >> 8;
  }
  hashScratch(count * 2);
  combine(bytesHigh ^ (weight < 0 ? -1 : 0), bytesLow ^ weight);
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
const TWO_50 = 2 ** 50;
const reversed = new Int32Array(8);

/**
 * Hashes the number intPart + fraction / 10000^fractionGroups (intPart a safe integer, fraction
 * fractionGroups base-10000 digits): its digits, leading and trailing zero digits dropped.
 */
function hashDecimal(intPart: number, fraction: number, fractionGroups: number): void {
  let n = 0;
  for (let v = intPart; v > 0; v = Math.floor(v / 10000)) reversed[n++] = v % 10000;
  let count = 0;
  while (n > 0) groups[count++] = reversed[--n];
  let weight = count - 1;
  for (let g = fractionGroups - 1; g >= 0; g--) groups[count++] = Math.floor(fraction / POW10[4] ** g) % 10000;
  let start = 0;
  while (groups[start] === 0) {
    start += 1;
    weight -= 1;
  }
  let end = count;
  while (groups[end - 1] === 0) end -= 1;
  if (start > 0) groups.copyWithin(0, start, end);
  hashGroups(end - start, weight);
}

/** hash_numeric_extended of a finite double, as the decimal String() gives for it. */
function hashNumber(value: number): void {
  if (value === 0) return combine(-1, -1);
  const magnitude = Math.abs(value);
  if (magnitude <= Number.MAX_SAFE_INTEGER && Math.floor(magnitude) === magnitude) return hashDecimal(magnitude, 0, 0);
  // Few decimals (times in seconds with milliseconds, prices): the k-decimal m / 10^k that reads
  // back as this double, if it is the only one with that few decimals and none with fewer does, is
  // the shortest form String() prints. Else (or when the scaled value could round) use String().
  for (let k = 1; k <= 6; k++) {
    const scale = POW10[k];
    const scaled = magnitude * scale;
    if (scaled >= TWO_50) break;
    const m = Math.round(scaled);
    if (m / scale !== magnitude) continue;
    if ((m - 1) / scale === magnitude || (m + 1) / scale === magnitude) break;
    const intPart = Math.floor(m / scale);
    const pad = (4 - (k % 4)) % 4;
    return hashDecimal(intPart, (m - intPart * scale) * POW10[pad], (k + pad) / 4);
  }
  const text = String(magnitude);
  const e = text.indexOf('e');
  const end = e < 0 ? text.length : e;
  let point = text.indexOf('.');
  if (point < 0 || point > end) point = end;
  let first = 0;
  while (first < end && (text.charCodeAt(first) === 48 || text.charCodeAt(first) === 46)) first += 1;
  let last = end - 1;
  while (text.charCodeAt(last) === 48 || text.charCodeAt(last) === 46) last -= 1;
  // Decimal place of a digit at index i: 10^place (0 units, -1 tenths), shifted by the exponent.
  const shift = e < 0 ? 0 : Number(text.slice(e + 1));
  const placeOf = (i: number) => (i < point ? point - i - 1 : point - i) + shift;
  const weight = Math.floor(placeOf(first) / 4);
  let count = 0;
  let group = 0;
  let groupIndex = weight;
  for (let i = first; i <= last; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) continue;
    const p = placeOf(i);
    const g = Math.floor(p / 4);
    while (g !== groupIndex) {
      // Next group (whole zero groups between two digits included).
      groups[count++] = group;
      group = 0;
      groupIndex -= 1;
    }
    group += (code - 48) * 10 ** (p - g * 4);
  }
  groups[count++] = group;
  hashGroups(count, weight);
}

/** Key order of a jsonb object: shorter UTF-8 first, then bytewise (ASCII: by UTF-16 code unit). */
function byAsciiKey(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function byUtf8Key(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length - y.length || Buffer.compare(x, y);
}

function isAscii(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 127) return false;
  return true;
}

function hashValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      return hashString(value);
    case 'number':
      return hashNumber(value);
    case 'boolean':
      return combine(0, value ? 2 : 4);
    case 'object':
      if (value === null) return combine(0, 1);
      if (Array.isArray(value)) {
        high ^= 0x40000000;
        low ^= 0x40000000;
        for (const item of value) hashValue(item);
        return;
      }
      high ^= 0x20000000;
      low ^= 0x20000000;
      {
        const object = value as Record<string, unknown>;
        const keys = Object.keys(object);
        let ascii = true;
        for (const key of keys) if (!isAscii(key)) ascii = false;
        keys.sort(ascii ? byAsciiKey : byUtf8Key);
        for (const key of keys) {
          hashKey(key);
          hashValue(object[key]);
        }
      }
      return;
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

/**
 * jsonb_hash_extended(value, 0) of a parsed JSON value, as the two 32-bit halves of the int8
 * (high: signed, low: its bits as int32).
 */
export function jsonbHash(value: unknown): { high: number; low: number } {
  high = 0;
  low = 0;
  if (value === null || typeof value !== 'object') {
    // A scalar root is stored as a one-element "raw scalar" array.
    high = 0x40000000;
    low = 0x40000000;
    hashValue(value);
  } else if (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0) {
    hashValue(value);
  }
  return { high, low };
}

/** The int8 text of a hash's halves (for SQL parameters). */
export function hashText(hash: { high: number; low: number }): string {
  return BigInt.asIntN(64, (BigInt(hash.high) << 32n) | BigInt(hash.low >>> 0)).toString();
}

/** The halves of an int8 text (PostgreSQL's answer). */
export function hashFromText(text: string): { high: number; low: number } {
  const value = BigInt.asUintN(64, BigInt(text));
  return { high: Number(value >> 32n) | 0, low: Number(value & 0xffffffffn) | 0 };
}
