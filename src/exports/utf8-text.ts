/**
 * A JSON string of a point still as the UTF-8 bytes PostgreSQL sent. Element HTML, URLs and page
 * titles go from the COPY to the TSV this way, never made into JavaScript strings: decoding,
 * re-encoding and collecting ~2 KB of strings a point cost the exporting process more than any
 * other step on element-show points (BENCHMARKS.md, exports on realistic data). Only columns that
 * declare `readsText` are handed these; `toString()` gives the string wherever one is needed.
 */
export class Utf8Text {
  /** a view of the COPY's buffer (the batch's memory stays while this is held) */
  constructor(readonly bytes: Buffer) {}

  toString(): string {
    return this.bytes.toString('utf8');
  }

  /** Whether any of these single bytes (ASCII) or byte sequences occurs. */
  includesAny(needles: readonly (number | Buffer)[]): boolean {
    for (const needle of needles) if (this.bytes.indexOf(needle) !== -1) return true;
    return false;
  }
}
