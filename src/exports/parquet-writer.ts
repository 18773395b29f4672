/**
 * Streaming Parquet writer for exports: rows go in one at a time, a row group is encoded and
 * written out every `rowGroupRows` rows, so memory holds one row group however big the export.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';

export type ParquetColumnType = 'string' | 'int' | 'double' | 'bool' | 'time';
export interface ParquetColumn { name: string; type: ParquetColumnType }

type Cell = string | bigint | number | boolean | null;

// Every column OPTIONAL, so any cell can be null. Strings carry both the legacy converted type and
// the logical type so old and new readers agree; likewise for timestamps (UTC, microseconds).
const ELEMENTS: Record<ParquetColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' },
  int: { type: 'INT64', repetition_type: 'OPTIONAL' },
  double: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  bool: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  time: {
    type: 'INT64', converted_type: 'TIMESTAMP_MICROS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL',
  },
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Integral bigint within INT64, else null (the library throws on out-of-range values). */
function int64(v: bigint): bigint | null {
  return v >= INT64_MIN && v <= INT64_MAX ? v : null;
}

function toInt(v: unknown): bigint | null {
  if (typeof v === 'bigint') return int64(v);
  if (typeof v === 'number') return Number.isFinite(v) ? int64(BigInt(Math.trunc(v))) : null;
  if (typeof v === 'string') {
    const s = v.trim();
    // Integer text goes through BigInt so int8 values beyond 2^53 (as pg returns them) stay exact.
    if (/^[+-]?\d+$/.test(s)) return int64(BigInt(s));
    const n = s === '' ? NaN : Number(s);
    return Number.isFinite(n) ? int64(BigInt(Math.trunc(n))) : null;
  }
  return null;
}

function toDouble(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v); // e.g. a bigint inside, or a cycle
    }
  }
  return String(v);
}

function toCell(type: ParquetColumnType, v: unknown): Cell {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'string': return toText(v);
    case 'int': return toInt(v);
    case 'double': return toDouble(v);
    case 'bool': return typeof v === 'boolean' ? v : null;
    case 'time':
      // Microseconds since the epoch; a Date is accepted too (millisecond precision).
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : BigInt(v.getTime()) * 1000n;
      if (typeof v === 'bigint') return int64(v);
      return typeof v === 'number' && Number.isFinite(v) ? int64(BigInt(Math.trunc(v))) : null;
  }
}

/**
 * The library's ByteWriter, flushed to an fs WriteStream after each row group (ParquetWriter calls
 * flush()) instead of its own fileWriter's sync appends; the returned promise waits for 'drain',
 * so a slow disk holds the producer back. The buffer is reused, so it stays one row group big.
 */
class StreamByteWriter extends ByteWriter {
  private readonly stream: fs.WriteStream;
  private error: Error | undefined;

  constructor(filePath: string) {
    super(1 << 20);
    this.stream = fs.createWriteStream(filePath);
    this.stream.on('error', (err) => { this.error = err; });
  }

  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.index === 0) return;
    // Copy: the ByteWriter overwrites its buffer from index 0 once we reset it.
    const chunk = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  override async finish(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

export class ParquetFileWriter {
  private readonly columns: readonly ParquetColumn[];
  private readonly rowGroupRows: number;
  private readonly out: StreamByteWriter;
  private readonly pq: ParquetWriter;
  private buffers: Cell[][];
  private buffered = 0;
  private rows = 0;
  private closing: Promise<number> | undefined;

  constructor(
    filePath: string,
    columns: readonly ParquetColumn[],
    options: { rowGroupRows?: number; createdBy?: string; kvMetadata?: { key: string; value: string }[] } = {},
  ) {
    const rowGroupRows = options.rowGroupRows ?? 10_000;
    if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw new RangeError('rowGroupRows must be a positive integer');
    this.columns = columns;
    this.rowGroupRows = rowGroupRows;
    this.buffers = columns.map(() => []);
    this.out = new StreamByteWriter(filePath);
    const schema: SchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.map((c) => ({ name: c.name, ...ELEMENTS[c.type] })),
    ];
    // Writes the 'PAR1' header into the buffer; SNAPPY is the default codec, built in.
    this.pq = new ParquetWriter({ writer: this.out, schema, createdBy: options.createdBy, kvMetadata: options.kvMetadata });
  }

  addRow(values: readonly unknown[]): void | Promise<void> {
    if (this.closing) throw new Error('ParquetFileWriter: addRow after close');
    if (values.length !== this.columns.length) {
      throw new TypeError(`ParquetFileWriter: row has ${values.length} values, expected ${this.columns.length}`);
    }
    for (let i = 0; i < values.length; i++) this.buffers[i].push(toCell(this.columns[i].type, values[i]));
    this.buffered++;
    this.rows++;
    if (this.buffered >= this.rowGroupRows) return this.flushGroup();
  }

  close(): Promise<number> {
    this.closing ??= (async () => {
      if (this.buffered > 0) await this.flushGroup();
      await this.pq.finish(); // column/offset indexes, footer with the schema, 'PAR1'; ends the stream
      return this.rows;
    })();
    return this.closing;
  }

  /** One row group from the buffered rows; the buffers are replaced so the old ones can be collected. */
  private async flushGroup(): Promise<void> {
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: this.buffers[i] }));
    const rowGroupSize = this.buffered;
    this.buffers = this.columns.map(() => []);
    this.buffered = 0;
    // With a single group, write() encodes synchronously, then returns out.flush()'s promise.
    await this.pq.write({ columnData, rowGroupSize });
  }
}
