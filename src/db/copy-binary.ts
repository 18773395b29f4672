/**
 * Reads a query's rows through `COPY ... TO STDOUT (FORMAT binary)`. Used to fetch bundle bodies:
 * an ordinary query returns bytea as hex text, which costs PostgreSQL and Node several times more
 * than the bytes themselves (measured: 240 MB of bodies, 1.7 s as text, 0.23 s by binary COPY).
 *
 * Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags field and
 * a 32-bit header-extension length (plus the extension); then per row a 16-bit field count (-1
 * ends the data) and per field a 32-bit length (-1 is NULL) followed by that many bytes.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from './database.ts';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Seconds from 1970 to 2000-01-01 00:00 UTC, where PostgreSQL counts a timestamptz from (in microseconds). */
export const POSTGRES_EPOCH_SECONDS = 946_684_800;

/** A binary timestamptz field as microseconds since 1970, as JavaScript counts (exact: far below 2^53). */
export function timestampMicros(buffer: Buffer, start: number): number {
  return buffer.readInt32BE(start) * 4294967296 + buffer.readUInt32BE(start + 4) + POSTGRES_EPOCH_SECONDS * 1_000_000;
}

/** Each row as its fields' raw binary values (NULL: null), in the query's order. */
export async function copyBinaryRows(client: PoolClient, selectSql: string): Promise<(Buffer | null)[][]> {
  const chunks: Buffer[] = [];
  const stream = client.query(copyTo(`COPY (${selectSql}) TO STDOUT (FORMAT binary)`));
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return parseBinaryCopy(Buffer.concat(chunks));
}

export function parseBinaryCopy(data: Buffer): (Buffer | null)[][] {
  if (data.length < 19 || !data.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
  let offset = 15 + 4 + data.readUInt32BE(15);
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const fieldCount = data.readInt16BE(offset);
    offset += 2;
    if (fieldCount === -1) return rows;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < fieldCount; i++) {
      const length = data.readInt32BE(offset);
      offset += 4;
      if (length === -1) {
        row.push(null);
      } else {
        row.push(data.subarray(offset, offset + length));
        offset += length;
      }
    }
    rows.push(row);
  }
}

/**
 * Rows as they arrive, a batch per chunk PostgreSQL sends: field k of row r (k + r × fieldCount)
 * is `buffer[starts[i] .. starts[i] + lengths[i])`, length -1 meaning NULL. The reader takes
 * values straight from the chunk, with no object per row or field; a batch is valid until the
 * next is asked for.
 */
export interface RowBatch {
  buffer: Buffer;
  rows: number;
  fieldCount: number;
  starts: Int32Array;
  lengths: Int32Array;
}

/**
 * The query's rows in batches, parsed chunk by chunk as PostgreSQL sends them: for result sets
 * too big to hold (exports). COPY streams without the round trip per batch a cursor needs, so
 * PostgreSQL produces the next rows while this process works on the last (measured on an export
 * of 206,000 points: a cursor fetched 58,000 rows/s, binary COPY 83,000).
 */
export async function* streamBinaryRowBatches(client: PoolClient, selectSql: string): AsyncGenerator<RowBatch> {
  const stream = client.query(copyTo(`COPY (${selectSql}) TO STDOUT (FORMAT binary)`, { highWaterMark: READ_AHEAD_BYTES }));
  try {
    yield* binaryRowBatches(stream as AsyncIterable<Buffer>);
  } finally {
    stream.destroy();
  }
}

/**
 * A batch is parsed once this much has arrived: when PostgreSQL is the slower side the socket
 * brings a few kilobytes at a time, and every batch costs the reader a round of its own. Small
 * enough that the socket is read again soon (below).
 */
const MIN_BATCH_BYTES = 64 * 1024;

/**
 * What this process reads ahead of the reader. The socket is read only between batches: while
 * the reader works on one, PostgreSQL can send no more than the kernel's socket buffers hold
 * (~150 KB on localhost) and then waits. With batches of 256 KB read as fast as they came, the
 * two took turns: on 1 million element-show points the export's main thread waited 10 s for rows
 * and PostgreSQL as long for the reader, and busy + waiting added up to the wall time. With 64 KB
 * batches, a turn of the event loop after each (the socket read into this buffer), it waited 2.7 s.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/** The rows of a binary COPY stream, in batches of at least MIN_BATCH_BYTES (but the last). */
export async function* binaryRowBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<RowBatch> {
  // Bytes not parsed yet. Chunks are joined only once a batch's worth, and at least the known
  // length of the row cut by the last chunk's end, has arrived: a row of many chunks is copied
  // once, not once a chunk.
  let waiting: Buffer[] = [];
  let waitingBytes = 0;
  let need = 19;
  let headerDone = false;
  const index = new FieldIndex();
  const parse = function* (): Generator<RowBatch, boolean> {
    const buffer = waiting.length === 1 ? waiting[0] : Buffer.concat(waiting, waitingBytes);
    let offset = 0;
    if (!headerDone) {
      if (buffer.length < 19 || !buffer.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      const headerEnd = 19 + buffer.readUInt32BE(15);
      if (buffer.length < headerEnd) {
        [waiting, need] = [[buffer], headerEnd];
        return false;
      }
      offset = headerEnd;
      headerDone = true;
    }
    const batch = parseRows(buffer, offset, index);
    if (batch.rows > 0) yield batch;
    const rest = buffer.subarray(batch.end);
    [waiting, waitingBytes, need] = [[rest], rest.length, batch.need];
    return batch.ended;
  };
  for await (const chunk of chunks) {
    waiting.push(chunk);
    waitingBytes += chunk.length;
    if (waitingBytes < Math.max(need, MIN_BATCH_BYTES)) continue;
    if (yield* parse()) return;
    // let the socket be read (into the read-ahead) before the next batch
    await nextTurn();
  }
  if (waitingBytes > 0 && (yield* parse())) return;
  throw new Error('the binary COPY stream ended before its trailer');
}

/** Where the fields of a batch are: kept from batch to batch (a batch is read before the next is parsed). */
class FieldIndex {
  starts = new Int32Array(4096);
  lengths = new Int32Array(4096);

  ensure(size: number): void {
    if (size <= this.starts.length) return;
    const capacity = Math.max(size, this.starts.length * 2);
    const [starts, lengths] = [new Int32Array(capacity), new Int32Array(capacity)];
    starts.set(this.starts);
    lengths.set(this.lengths);
    [this.starts, this.lengths] = [starts, lengths];
  }
}

/** The whole rows of `buffer` from `offset`; `end` is where the first incomplete one starts, `need` the bytes it needs at least. */
function parseRows(buffer: Buffer, offset: number, index: FieldIndex): RowBatch & { end: number; need: number; ended: boolean } {
  let rows = 0;
  let fieldCount = 0;
  let used = 0;
  const batch = (end: number, need: number, ended: boolean) => ({ buffer, rows, fieldCount, starts: index.starts, lengths: index.lengths, end, need, ended });
  for (;;) {
    if (buffer.length - offset < 2) return batch(offset, 2, false);
    const fields = buffer.readInt16BE(offset);
    if (fields === -1) return batch(offset + 2, 0, true);
    index.ensure(used + fields);
    const { starts, lengths } = index;
    let cursor = offset + 2;
    let complete = true;
    for (let i = 0; i < fields; i++) {
      if (buffer.length - cursor < 4) {
        complete = false;
        break;
      }
      const length = buffer.readInt32BE(cursor);
      cursor += 4;
      starts[used + i] = cursor;
      lengths[used + i] = length;
      if (length === -1) continue;
      cursor += length;
      if (cursor > buffer.length) {
        complete = false;
        break;
      }
    }
    if (!complete) return batch(offset, Math.max(cursor - offset, 2), false);
    fieldCount = fields;
    used += fields;
    rows += 1;
    offset = cursor;
  }
}

/** The same rows one by one, each as its fields' raw binary values (NULL: null). */
export async function* streamBinaryRows(client: PoolClient, selectSql: string): AsyncGenerator<(Buffer | null)[]> {
  for await (const { buffer, rows, fieldCount, starts, lengths } of streamBinaryRowBatches(client, selectSql)) {
    for (let r = 0, k = 0; r < rows; r++) {
      const row: (Buffer | null)[] = [];
      for (let f = 0; f < fieldCount; f++, k++) row.push(lengths[k] === -1 ? null : buffer.subarray(starts[k], starts[k] + lengths[k]));
      yield row;
    }
  }
}
