/**
 * How an export reads its points: one short query per source, each in its own transaction
 * (scale-out.md Q10: one COPY over every source held one snapshot for the whole export, which
 * keeps VACUUM from cleaning the bundle queue for hours), in the order one query over all of
 * them gave.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceBatches, streamPoints, type PointWindow } from '../../src/exports/point-query.ts';
import type { StoredPoint } from '../../src/exports/export-point.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { uploadPoints } from './support.ts';

const server = useTestServer();
const TYPE = 'webmunk-extension-action';

function action(source: string, timestamp: number, name: string): Point {
  const [p] = samples(7);
  const meta = p['passive-data-metadata']!;
  meta.source = source;
  meta.timestamp = timestamp;
  p.action = name;
  return p;
}

// Code-point (UTF-8 byte) order, which is not JavaScript's UTF-16 order: U+1F600 sorts before
// U+FF61 in UTF-16 (a surrogate, 0xD83D) but after it by code point, as PostgreSQL's "C".
const SOURCES = ['😀-late', '｡-halfwidth', 'beta', 'Alpha', 'alpha'];
const IN_ORDER = ['Alpha', 'alpha', 'beta', '｡-halfwidth', '😀-late'];

const window = (sources: readonly string[]): PointWindow => ({ generators: [TYPE], sources, dateType: 'created', timeZone: 'UTC', order: 'newest-first' });

async function read(batches: AsyncIterable<Iterable<StoredPoint>>): Promise<StoredPoint[]> {
  const points: StoredPoint[] = [];
  for await (const batch of batches) points.push(...batch);
  return points;
}

beforeAll(async () => {
  await uploadPoints(server, SOURCES.flatMap((source, i) => [action(source, 1694706000 + i, 'first'), action(source, 1694707000 + i, 'second')]));
});

describe('streamPoints', () => {
  it('reads the sources in code-point order, each once, newest first within each', async () => {
    const points = await read(streamPoints(server.db.pool, window([...SOURCES, 'beta'])));
    expect(points.map((p) => `${p.source} ${String(p.properties.action)}`)).toEqual(IN_ORDER.flatMap((source) => [`${source} second`, `${source} first`]));
  });

  it('reads each source in a snapshot of its own: a point stored while earlier sources are read is in a later source', async () => {
    // the next source's query starts while one is read: the point goes to the one after
    const stream = streamPoints(server.db.pool, window(['alpha', 'beta', '｡-halfwidth']));
    const first = await stream.next();
    expect([...(first.value as Iterable<StoredPoint>)].map((p) => p.source)).toEqual(['alpha', 'alpha']);
    // stored and committed while the export is between its first rows and the third source's
    await uploadPoints(server, [action('｡-halfwidth', 1694708000, 'third')]);
    const rest = await read({ [Symbol.asyncIterator]: () => stream });
    expect(rest.map((p) => `${p.source} ${String(p.properties.action)}`)).toEqual(['beta second', 'beta first', '｡-halfwidth third', '｡-halfwidth second', '｡-halfwidth first']);
  });

  it('leaves no transaction open and no connection checked out when the reader stops half-way', async () => {
    const stream = streamPoints(server.db.pool, window(IN_ORDER));
    await stream.next();
    await stream.return(undefined);
    expect(server.db.pool.totalCount - server.db.pool.idleCount).toBe(0);
    // its connection was closed, not pooled with the transaction open (the backend exits soon after)
    for (let tries = 0; ; tries++) {
      const { rows } = await server.db.pool.query<{ open: number }>(
        `SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
      );
      if (rows[0].open === 0) break;
      expect(tries, 'a transaction is still open').toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

describe('sourceBatches', () => {
  it('cuts the sources, each once and in code-point order, into batches of the size asked', () => {
    expect(sourceBatches(SOURCES, 2)).toEqual([['Alpha', 'alpha'], ['beta', '｡-halfwidth'], ['😀-late']]);
    expect(sourceBatches([])).toEqual([]);
  });
});
