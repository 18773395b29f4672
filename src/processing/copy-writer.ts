/**
 * Rows for `COPY ... FROM STDIN (FORMAT binary)`, written straight into reusable buffers. Binary,
 * not text, COPY: point JSON is full of backslashes, tabs and newlines that the text format would
 * make this process escape and PostgreSQL unescape; here a string is one length-prefixed write.
 *
 * Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags field and
 * a 32-bit header-extension length; per row a 16-bit field count and per field a 32-bit length
 * (-1: NULL) and the value in the type's binary form (text, jsonb: version byte 1 then the JSON
 * text; int8 and timestamptz: 64-bit big-endian, timestamptz in microseconds since 2000-01-01 UTC;
 * uuid: its 16 bytes);
 * a 16-bit -1 ends the data.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const CHUNK_BYTES = 1024 * 1024;
const TWO_32 = 2 ** 32;

export class BinaryCopyWriter {
  private chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private offset = 0;
  /** UTF-8 of the repeated values of textOften (a batch has a few sources, types, user agents). */
  private encoded = new Map<string, Buffer>();

  constructor() {
    SIGNATURE.copy(this.buffer, 0);
    this.buffer.writeInt32BE(0, 11); // flags
    this.buffer.writeInt32BE(0, 15); // header extension length
    this.offset = 19;
  }

  /** Makes room for `bytes` more in the current buffer (a full one is kept as a finished chunk). */
  private room(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    this.chunks.push(this.buffer.subarray(0, this.offset));
    this.buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.offset = 0;
  }

  row(fields: number): void {
    this.room(2);
    this.buffer.writeInt16BE(fields, this.offset);
    this.offset += 2;
  }

  null(): void {
    this.room(4);
    this.buffer.writeInt32BE(-1, this.offset);
    this.offset += 4;
  }

  /** A text field; null writes NULL. */
  text(value: string | null): void {
    if (value === null) return this.null();
    this.room(4 + value.length * 3); // UTF-8: at most 3 bytes per UTF-16 unit
    const length = this.buffer.write(value, this.offset + 4, 'utf8');
    this.buffer.writeInt32BE(length, this.offset);
    this.offset += 4 + length;
  }

  /**
   * A text field with few distinct values: encoded once, then copied (a call into C++ per field
   * costs more than the copy of a short value).
   */
  textOften(value: string): void {
    let bytes = this.encoded.get(value);
    if (!bytes) {
      if (this.encoded.size >= 4096) this.encoded.clear();
      this.encoded.set(value, (bytes = Buffer.from(value, 'utf8')));
    }
    this.room(4 + bytes.length);
    this.buffer.writeInt32BE(bytes.length, this.offset);
    this.buffer.set(bytes, this.offset + 4);
    this.offset += 4 + bytes.length;
  }

  /** A jsonb field whose JSON text is the concatenation of `parts` (no copy is made to join them). */
  jsonb(...parts: string[]): void {
    let units = 0;
    for (const part of parts) units += part.length;
    // Room for the worst case (3 bytes per unit) if it fits, else for the exact size.
    if (this.offset + 5 + units * 3 > this.buffer.length) {
      let bytes = 0;
      for (const part of parts) bytes += Buffer.byteLength(part, 'utf8');
      this.room(5 + bytes);
    }
    const start = this.offset;
    this.buffer[start + 4] = 1; // jsonb binary format version
    let end = start + 5;
    for (const part of parts) end += this.buffer.write(part, end, 'utf8');
    this.buffer.writeInt32BE(end - start - 4, start);
    this.offset = end;
  }

  /**
   * A jsonb field whose JSON text is the concatenation of byte ranges ([start, end) pairs) of
   * `parts` (each a Uint8Array): for text already encoded once, as a whole bundle is.
   */
  jsonbBytes(parts: Uint8Array[], ranges: number[]): void {
    let bytes = 0;
    for (let i = 0; i < ranges.length; i += 2) bytes += ranges[i + 1] - ranges[i];
    this.room(5 + bytes);
    this.buffer.writeInt32BE(bytes + 1, this.offset);
    this.buffer[this.offset + 4] = 1; // jsonb binary format version
    let at = this.offset + 5;
    for (let i = 0; i < ranges.length; i += 2) {
      this.buffer.set(parts[i >> 1].subarray(ranges[i], ranges[i + 1]), at);
      at += ranges[i + 1] - ranges[i];
    }
    this.offset = at;
  }

  /** An int8 (or timestamptz, in microseconds since 2000-01-01) from an integer-valued number. */
  int64(value: number): void {
    this.room(12);
    this.buffer.writeInt32BE(8, this.offset);
    if (Math.abs(value) < Number.MAX_SAFE_INTEGER) {
      const high = Math.floor(value / TWO_32);
      this.buffer.writeInt32BE(high, this.offset + 4);
      this.buffer.writeUInt32BE(value - high * TWO_32, this.offset + 8);
    } else {
      this.buffer.writeBigInt64BE(BigInt(value), this.offset + 4);
    }
    this.offset += 12;
  }

  /** A uuid given as 32 hex digits (its 16 bytes, in order). */
  uuid(hex: string): void {
    this.room(20);
    this.buffer.writeInt32BE(16, this.offset);
    this.buffer.write(hex, this.offset + 4, 16, 'hex');
    this.offset += 20;
  }

  /** An int8 given as 8 big-endian bytes. */
  int64Bytes(bytes: Buffer): void {
    this.room(12);
    this.buffer.writeInt32BE(8, this.offset);
    bytes.copy(this.buffer, this.offset + 4, 0, 8);
    this.offset += 12;
  }

  /** Ends the data; returns the whole stream as chunks, to write to the COPY in order. */
  finish(): Buffer[] {
    this.room(2);
    this.buffer.writeInt16BE(-1, this.offset);
    this.offset += 2;
    const chunks = [...this.chunks, this.buffer.subarray(0, this.offset)];
    this.chunks = [];
    return chunks;
  }
}
