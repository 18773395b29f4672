/**
 * The elements of a JSON array (or a root object, as one element) read from a stream of chunks,
 * each as its own bytes, as soon as it ends: the streaming scanner (json-scan.ts) finds where each
 * one starts and ends, and only the element being read is kept across chunks. Memory: a chunk and
 * one element (at most the limits' maxElementBytes), whatever the array's size. Processing reads
 * a large bundle this way (split-payload.ts), `dcs import-pdk` an original's backup file.
 */
import { JsonScanner, type ScanLimits, type ScanResult } from './json-scan.ts';

/**
 * Yields each element's bytes (views into the chunks: copy them to keep them past the next chunk's
 * arrival only if the chunks are reused). Throws PayloadError at the first byte that cannot
 * belong, after yielding the elements that ended before it. `onEnd` receives the scan's result.
 */
export async function* arrayElements(chunks: AsyncIterable<Buffer>, limits: ScanLimits, onEnd?: (result: ScanResult) => void): AsyncGenerator<Buffer> {
  const ready: Buffer[] = [];
  // The element being read began in an earlier chunk: its bytes so far, from absolute offset openAt.
  let open: Buffer[] = [];
  let openAt = 0;
  let chunk: Buffer = Buffer.alloc(0);
  let chunkAt = 0;
  const scanner = new JsonScanner(limits, (start, end) => {
    ready.push(start >= chunkAt
      ? chunk.subarray(start - chunkAt, end - chunkAt)
      : Buffer.concat([...open, chunk.subarray(0, end - chunkAt)]).subarray(start - openAt));
  });
  for await (chunk of chunks) {
    try {
      scanner.push(chunk);
    } catch (error) {
      yield* ready.splice(0);
      throw error;
    }
    const start = scanner.openElementStart;
    if (start < 0) open = [];
    else if (start >= chunkAt) [open, openAt] = [[chunk.subarray(start - chunkAt)], start];
    else open.push(chunk);
    chunkAt += chunk.length;
    yield* ready.splice(0);
  }
  const result = scanner.end();
  yield* ready.splice(0);
  onEnd?.(result);
}
