/**
 * Checks that bytes are one JSON array (or object) of data points, reading them chunk by chunk as
 * they come (from a streaming gunzip, say) and keeping nothing but its position, a byte per open
 * nesting level and a few counters. Ingest runs it on every upload instead of JSON.parse, which
 * builds the whole value: 450 MB of `[{},{},…]` inflated from a 450 KB gzip body took the server
 * past 2 GB before it could answer (issue 17). Processing runs it to cut a large bundle into pieces
 * it can parse one at a time (`onElement`).
 *
 * It accepts exactly what processing accepts: JSON.parse of the text after toStorableJson, which
 * drops NUL characters. So NUL bytes are skipped wherever they are; bytes from 0x80 up are taken as
 * they are inside strings (the UTF-8 decoder turns invalid ones into U+FFFD) and refused outside.
 * Besides the grammar it enforces the limits a real bundle stays far inside (ScanLimits), so that
 * no stored bundle can take processing's memory either.
 */
import { PayloadError } from './bundle-codec.ts';

export interface ScanLimits {
  /** Most open arrays and objects at once, the root included. */
  maxDepth: number;
  /** Most elements in the root array (points in a bundle). */
  maxElements: number;
  /** Most bytes one element of the root array (one point) may take. */
  maxElementBytes: number;
  /**
   * Most values (objects, arrays, strings, numbers, literals) in one element. What JSON.parse of a
   * point costs is about 50 bytes per value plus its strings: this bounds it whatever its shape.
   */
  maxElementValues: number;
}

export interface ScanResult {
  /** The root is an array (a bundle) rather than one object (a point). */
  rootIsArray: boolean;
  /** Elements of the root array; 1 for a root object. */
  elements: number;
  /** Bytes read, NULs included. */
  bytes: number;
}

// States: what the next significant byte may be.
const VALUE = 0; // a value (after `:`, after `,` in an array, at the start)
const ARRAY_FIRST = 1; // after `[`: a value or `]`
const OBJECT_FIRST = 2; // after `{`: a key or `}`
const KEY = 3; // after `,` in an object: a key
const COLON = 4; // after a key
const AFTER = 5; // after a value: `,` or the closing bracket; at depth 0, only whitespace
const STRING = 6;
const ESCAPE = 7; // after a backslash in a string
const UNICODE = 8; // inside \uXXXX
const MINUS = 9; // after a leading `-`: a digit
const ZERO = 10; // after a leading `0`: `.`, `e` or the end of the number
const INTEGER = 11;
const DOT = 12; // after `.`: a digit
const FRACTION = 13;
const EXP = 14; // after `e`: a sign or a digit
const EXP_SIGN = 15; // after the exponent's sign: a digit
const EXPONENT = 16;
const LITERAL = 17; // inside true, false or null
const DONE = 18;

const IN_ARRAY = 0;
const IN_OBJECT = 1;
const LITERALS: Record<number, Uint8Array> = { 116: Buffer.from('true'), 102: Buffer.from('false'), 110: Buffer.from('null') };

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

export class JsonScanner {
  private state = VALUE;
  private depth = 0;
  private readonly kinds: Uint8Array;
  private stringIsKey = false;
  private hexLeft = 0;
  private literal: Uint8Array = LITERALS[116];
  private literalAt = 0;
  private rootIsArray = false;
  private elements = 0;
  /** Absolute offset of the root element being read, or -1 between elements. */
  private elementStart = -1;
  private elementValues = 0;
  private offset = 0;

  /**
   * `onElement(start, end)` is told the absolute byte offsets [start, end) of each element of the
   * root array as soon as it ends (for a root object: the object).
   */
  constructor(private readonly limits: ScanLimits, private readonly onElement?: (start: number, end: number) => void) {
    this.kinds = new Uint8Array(limits.maxDepth + 1);
  }

  /** Reads the next bytes. Throws PayloadError at the first byte that cannot belong to a bundle. */
  push(chunk: Uint8Array): void {
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      const c = chunk[i];
      if (c === 0) {
        i += 1;
        continue;
      }
      switch (this.state) {
        case STRING: {
          // The hot loop: most of a bundle's bytes are in strings.
          let j = i;
          let d = c;
          while (d !== 34 && d !== 92 && (d >= 32 || d === 0)) {
            if (++j === length) break;
            d = chunk[j];
          }
          if (j === length) {
            i = j;
            continue;
          }
          if (d === 34) {
            i = j + 1;
            if (this.stringIsKey) this.state = COLON;
            else this.valueEnd(this.offset + i);
            continue;
          }
          if (d === 92) {
            this.state = ESCAPE;
            i = j + 1;
            continue;
          }
          this.fail(j, 'a control character inside a string');
          break;
        }
        case ESCAPE:
          if (c === 117) {
            this.state = UNICODE;
            this.hexLeft = 4;
          } else if (c === 34 || c === 92 || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116) {
            this.state = STRING;
          } else {
            this.fail(i, 'an invalid escape in a string');
          }
          i += 1;
          break;
        case UNICODE:
          if (!isHex(c)) this.fail(i, 'an invalid \\u escape');
          if (--this.hexLeft === 0) this.state = STRING;
          i += 1;
          break;
        case MINUS:
          if (c === 48) this.state = ZERO;
          else if (isDigit(c)) this.state = INTEGER;
          else this.fail(i, 'a "-" without digits');
          i += 1;
          break;
        case ZERO:
        case INTEGER:
        case FRACTION:
        case EXPONENT:
          if (isDigit(c) && this.state !== ZERO) i += 1;
          else if (c === 46 && this.state !== FRACTION && this.state !== EXPONENT) {
            this.state = DOT;
            i += 1;
          } else if ((c === 101 || c === 69) && this.state !== EXPONENT) {
            this.state = EXP;
            i += 1;
          } else {
            this.valueEnd(this.offset + i); // the byte is not part of the number: read it again
          }
          break;
        case DOT:
          if (!isDigit(c)) this.fail(i, 'a number with no digit after "."');
          this.state = FRACTION;
          i += 1;
          break;
        case EXP:
          if (c === 43 || c === 45) this.state = EXP_SIGN;
          else if (isDigit(c)) this.state = EXPONENT;
          else this.fail(i, 'a number with no digits in its exponent');
          i += 1;
          break;
        case EXP_SIGN:
          if (!isDigit(c)) this.fail(i, 'a number with no digits in its exponent');
          this.state = EXPONENT;
          i += 1;
          break;
        case LITERAL:
          if (c !== this.literal[this.literalAt]) this.fail(i, 'an unknown word (not true, false or null)');
          i += 1;
          if (++this.literalAt === this.literal.length) this.valueEnd(this.offset + i);
          break;
        default:
          this.structural(c, i);
          i += 1;
      }
    }
    this.offset += length;
    if (this.elementStart >= 0 && this.offset - this.elementStart > this.limits.maxElementBytes) this.tooLarge();
  }

  /** Absolute offset where the element being read began; -1 between elements. */
  get openElementStart(): number {
    return this.elementStart;
  }

  /** The whole input has been read: throws PayloadError if it was not one complete array or object. */
  end(): ScanResult {
    if (this.state !== DONE) {
      throw new PayloadError(this.offset === 0 && this.state === VALUE ? 'empty payload' : 'invalid JSON (unexpected end of the payload)');
    }
    return { rootIsArray: this.rootIsArray, elements: this.rootIsArray ? this.elements : 1, bytes: this.offset };
  }

  /** Whitespace, brackets, commas, colons and the first byte of a value. */
  private structural(c: number, i: number): void {
    if (isSpace(c)) return;
    switch (this.state) {
      case VALUE:
      case ARRAY_FIRST:
        if (c === 93 && this.state === ARRAY_FIRST) return this.close(IN_ARRAY, i);
        return this.valueStart(c, i);
      case OBJECT_FIRST:
        if (c === 125) return this.close(IN_OBJECT, i);
      // falls through: a key
      case KEY:
        if (c !== 34) return this.fail(i, 'an object key that is not a string');
        this.stringIsKey = true;
        this.state = STRING;
        return;
      case COLON:
        if (c !== 58) return this.fail(i, 'a missing ":" after an object key');
        this.state = VALUE;
        return;
      case AFTER:
        if (this.depth === 0) return this.fail(i, 'more after the end of the JSON value');
        if (c === 44) {
          this.state = this.kinds[this.depth] === IN_OBJECT ? KEY : VALUE;
          return;
        }
        if (c === 93) return this.close(IN_ARRAY, i);
        if (c === 125) return this.close(IN_OBJECT, i);
        return this.fail(i, 'a missing "," or closing bracket');
      case DONE:
        return this.fail(i, 'more after the end of the JSON value');
    }
  }

  private valueStart(c: number, i: number): void {
    if (this.depth === 0) {
      if (c !== 91 && c !== 123) this.fail(i, 'a bundle must be a JSON array of data points');
      this.rootIsArray = c === 91;
      if (!this.rootIsArray) this.elementStart = this.offset + i;
    } else if (this.depth === 1 && this.rootIsArray) {
      if (++this.elements > this.limits.maxElements) {
        throw new PayloadError(`more than ${this.limits.maxElements} data points in one upload`);
      }
      this.elementStart = this.offset + i;
      this.elementValues = 0;
    }
    if (++this.elementValues > this.limits.maxElementValues) {
      throw new PayloadError(`a data point of more than ${this.limits.maxElementValues} JSON values`);
    }
    if (c === 91 || c === 123) {
      if (this.depth === this.limits.maxDepth) throw new PayloadError(`JSON nested more than ${this.limits.maxDepth} levels deep`);
      this.kinds[++this.depth] = c === 91 ? IN_ARRAY : IN_OBJECT;
      this.state = c === 91 ? ARRAY_FIRST : OBJECT_FIRST;
    } else if (c === 34) {
      this.stringIsKey = false;
      this.state = STRING;
    } else if (c === 45) {
      this.state = MINUS;
    } else if (c === 48) {
      this.state = ZERO;
    } else if (isDigit(c)) {
      this.state = INTEGER;
    } else if (LITERALS[c]) {
      this.literal = LITERALS[c];
      this.literalAt = 1;
      this.state = LITERAL;
    } else {
      this.fail(i, 'an unexpected character where a value should be');
    }
  }

  private close(kind: number, i: number): void {
    if (this.kinds[this.depth] !== kind) return this.fail(i, 'a closing bracket that does not match');
    this.depth -= 1;
    this.valueEnd(this.offset + i + 1);
  }

  /** A value ended just before absolute offset `end`. */
  private valueEnd(end: number): void {
    this.state = this.depth === 0 ? DONE : AFTER;
    if (this.elementStart >= 0 && (this.depth === 0 || (this.depth === 1 && this.rootIsArray))) {
      if (end - this.elementStart > this.limits.maxElementBytes) this.tooLarge();
      this.onElement?.(this.elementStart, end);
      this.elementStart = -1;
    }
  }

  private tooLarge(): never {
    throw new PayloadError(`a data point larger than ${this.limits.maxElementBytes} bytes`);
  }

  private fail(i: number, what: string): never {
    throw new PayloadError(`invalid JSON (${what} at byte ${this.offset + i})`);
  }
}
