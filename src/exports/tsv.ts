/**
 * Tab-separated cells exactly as the original's Python `csv.writer(delimiter='\t')` wrote them
 * (webmunk-server.md §5.2, pdk-server.md §7.4): minimal quoting with `"` (only cells holding a tab,
 * a quote, CR or LF; quotes doubled), CRLF line ends, None as an empty cell, numbers as Python's
 * `str()`, booleans as True/False. Analysts' scripts parse these files, so every byte matters.
 */

import { Utf8Text } from './utf8-text.ts';

const NEEDS_QUOTES = /[\t"\r\n]/;
/** The same as bytes: quote, tab, CR, LF (the quote first: HTML has one within its first bytes, which ends the search). */
const NEEDS_QUOTES_BYTES = [0x22, 0x09, 0x0d, 0x0a];

/**
 * A number as Python's str() printed it. The original read points back from PostgreSQL jsonb,
 * which prints numbers without exponents, so Python's json saw an int for every integral value the
 * JavaScript clients sent (1e21 arrives as 1000000000000000000000) and a float otherwise.
 * (JSON from a JavaScript client never writes "12.0", so "integral" means a Python int.)
 */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // The digits the client wrote (its shortest form), not the binary value's: BigInt(2 ** 64)
  // is 18446744073709551616, but the client sent 18446744073709552000 and Python printed that.
  if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : integerDigits(value);
  // A fraction is below 2 ** 53, so only small ones need Python's exponent form (below 1e-4,
  // with at least two exponent digits).
  if (Math.abs(value) < 1e-4) {
    const [mantissa, exponent] = value.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(value);
}

/** An integral value of 1e21 or more written out in full, as PostgreSQL's numeric prints it. */
function integerDigits(value: number): string {
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  return `${value < 0 ? '-' : ''}${digits}${'0'.repeat(Number(exponent) - (digits.length - 1))}`;
}

/** Characters Python's str.isprintable() rejects beyond ASCII; repr() escapes them. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

/** Python's repr() of a str: its choice of quotes and its escapes (\t \n \r, \xNN, \uNNNN, \UNNNNNNNN). */
function pythonStringRepr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let body = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') body += `\\${ch}`;
    else if (ch === '\t') body += '\\t';
    else if (ch === '\n') body += '\\n';
    else if (ch === '\r') body += '\\r';
    else if (code < 0x20 || code === 0x7f) body += `\\x${hex(code, 2)}`;
    else if (code < 0x7f || !NOT_PRINTABLE.test(ch)) body += ch;
    else if (code <= 0xff) body += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) body += `\\u${hex(code, 4)}`;
    else body += `\\U${hex(code, 8)}`;
  }
  return quote + body + quote;
}

/** Python's repr() of a decoded JSON value, which is what csv.writer wrote for a dict or list cell. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
}

/** One cell's text before quoting. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Utf8Text) return value.toString();
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  return pythonRepr(value);
}

function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One cell as written in a row (the caller writes a row of one empty cell as tsvLine does). */
export function tsvCell(value: unknown): string {
  return quoted(typeof value === 'string' ? value : cellText(value));
}

/** Where rows are encoded: text as UTF-8, text in quotes with its quotes doubled (from a string or from UTF-8 bytes), and single ASCII bytes. */
export interface TsvSink {
  write(text: string): unknown;
  writeQuoted(text: string): void;
  writeBytes(bytes: Buffer): void;
  writeQuotedBytes(bytes: Buffer): void;
  byte(code: number): void;
}

const TAB = 0x09;

/**
 * Writes one row, cell by cell, as tsvLine() would: large cells (element HTML) go into the sink
 * as they are, without being joined into a line first.
 */
export function writeTsvRow(sink: TsvSink, cells: number, cell: (index: number) => unknown): void {
  let empty = cells === 1;
  for (let i = 0; i < cells; i++) {
    if (i > 0) sink.byte(TAB);
    const value = cell(i);
    if (value instanceof Utf8Text) {
      // text as the bytes PostgreSQL sent: copied, never decoded
      if (value.includesAny(NEEDS_QUOTES_BYTES)) sink.writeQuotedBytes(value.bytes);
      else sink.writeBytes(value.bytes);
      empty &&= value.bytes.length === 0;
      continue;
    }
    const text = typeof value === 'string' ? value : cellText(value);
    if (NEEDS_QUOTES.test(text)) {
      sink.writeQuoted(text);
    } else if (text !== '') {
      sink.write(text);
    }
    empty &&= text === '';
  }
  // csv.writer writes a row of one empty cell as `""`, so it does not read back as no row at all
  if (empty) sink.write('""');
  sink.write('\r\n');
}

/** One row, CRLF included. */
export function tsvLine(cells: readonly unknown[]): string {
  // csv.writer writes a row of one empty cell as `""`, so it does not read back as no row at all.
  if (cells.length === 1 && cellText(cells[0]) === '') return '""\r\n';
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) line += '\t';
    line += quoted(cellText(cells[i]));
  }
  return line + '\r\n';
}
