/**
 * Tab-separated cells exactly as the original's Python `csv.writer(delimiter='\t')` wrote them
 * (webmunk-server.md §5.2, pdk-server.md §7.4): minimal quoting with `"` (only cells holding a tab,
 * a quote, CR or LF; quotes doubled), CRLF line ends, None as an empty cell, numbers as Python's
 * `str()`, booleans as True/False. Analysts' scripts parse these files, so every byte matters.
 */

const NEEDS_QUOTES = /[\t"\r\n]/;

/** A number as Python's str() prints a float or int that JSON decoding produced. */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // JSON from a JavaScript client never writes "12.0", so an integral value was a Python int.
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return BigInt(value).toString();
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    // Python switches to exponent form below 1e-4 and writes at least two exponent digits.
    const [mantissa, exponent] = value.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(value);
}

/** Python's repr() of a decoded JSON value, which is what csv.writer wrote for a dict or list cell. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t');
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
}

/** One cell's text before quoting. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  return pythonRepr(value);
}

function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row, CRLF included. */
export function tsvLine(cells: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) line += '\t';
    line += quoted(cellText(cells[i]));
  }
  return line + '\r\n';
}
