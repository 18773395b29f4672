/** Sends rows built by BinaryCopyWriter through `COPY ... FROM STDIN (FORMAT binary)`. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../db/database.ts';

/** A pool's client, or any other connection (the benchmarks' own). */
type Connection = Pick<PoolClient, 'query'>;

/** Runs `copySql` (a COPY ... FROM STDIN) with `chunks` as its data; returns the rows copied. */
export async function copyIn(client: Connection, copySql: string, chunks: Buffer[]): Promise<number> {
  const stream = client.query(copyFrom(copySql));
  await pipeline(Readable.from(chunks, { objectMode: false }), stream);
  return stream.rowCount;
}
