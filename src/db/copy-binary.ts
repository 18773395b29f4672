/**
 * Reads a query's rows through `COPY ... TO STDOUT (FORMAT binary)`. Used to fetch bundle bodies:
 * an ordinary query returns bytea as hex text, which costs PostgreSQL and Node several times more
 * than the bytes themselves (measured: 240 MB of bodies, 1.7 s as text, 0.23 s by binary COPY).
 *
 * Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags field and
 * a 32-bit header-extension length (plus the extension); then per row a 16-bit field count (-1
 * ends the data) and per field a 32-bit length (-1 is NULL) followed by that many bytes.
 */
import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from './database.ts';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

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
