/**
 * DeflatePool: a chunk's output depends on the chunk alone, never on what its handle compressed
 * before (exports are compared by checksum, issue 21 §3).
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflatePool } from '../../src/exports/deflate-pool.ts';

const OPTIONS = { level: 1, memLevel: 9 };

/** TSV-like lines, varied by a seed, `bytes` long. */
function lines(bytes: number, seed: number): Buffer {
  const out: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const line = `${i}\tsource-${seed % 7}\t<div data-asin="B0${seed.toString(36).toUpperCase()}">Product ${seed % 9973}</div>\t${(seed % 100_000) / 100}\r\n`;
    out.push(line);
    length += line.length;
  }
  return Buffer.from(out.join('')).subarray(0, bytes);
}

/** Indented prose lines, `bytes` long. */
function prose(bytes: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: bytes / 20 }, (_, i) => `  line ${(i * seed) % 13} of text\r\n`).join('')).subarray(0, bytes);
}

function deflateAll(pool: DeflatePool, chunks: Buffer[]): Promise<Buffer[]> {
  return Promise.all(chunks.map((chunk) => new Promise<Buffer>((resolve, reject) => pool.deflate(chunk, (error, output) => (error ? reject(error) : resolve(output))))));
}

describe('DeflatePool', () => {
  it('compresses a chunk to the same bytes on a used handle as on a new one, short chunks after long ones included', async () => {
    // (the old pool gave one of these pairs other bytes: a 4,000-byte chunk after a long one)
    const long = [lines(260_000, 9), prose(260_000, 7), lines(100_000, 11), lines(70_000, 3)];
    const short = [52, 500, 4_000, 30_000, 65_535].flatMap((bytes) => [1, 2, 3].flatMap((seed) => [lines(bytes, seed), prose(bytes, seed)]));
    const alone = new Map<Buffer, string>();
    for (const chunk of [...long, ...short]) {
      const pool = new DeflatePool(1, OPTIONS);
      const [output] = await deflateAll(pool, [chunk]);
      pool.close();
      expect(zlib.inflateRawSync(Buffer.concat([output, Buffer.from([0x03, 0x00])]))).toEqual(chunk);
      alone.set(chunk, output.toString('hex'));
    }
    // one handle, every long chunk followed by every short one, in turn
    const used = new DeflatePool(1, OPTIONS);
    for (const before of long) {
      for (const after of short) {
        const [first, second] = await deflateAll(used, [before, after]);
        expect(first.toString('hex')).toBe(alone.get(before));
        expect(second.toString('hex')).toBe(alone.get(after));
      }
    }
    used.close();
  });
});
