/**
 * Uploads built to hurt (issue 17): bodies a few hundred KB long that decode to hundreds of MB of
 * tiny values, nesting tens of millions deep, or one huge string. Built as gzip files of several
 * members (one compressed once and repeated), which every gzip reader takes as one stream, so a
 * 470 MB bomb costs milliseconds to make.
 */
import { gzipSync } from 'node:zlib';

/** gzip of `head`, then `body` `times` times, then `tail`, as one gzip stream of several members. */
export function gzipRepeated(head: string, body: string, times: number, tail: string): Buffer<ArrayBuffer> {
  const member = gzipSync(body, { level: 9 });
  return Buffer.concat([gzipSync(head), ...Array.from({ length: times }, () => member), gzipSync(tail)]);
}

const MB = 1024 * 1024;

/** `[{},{},…]`: about `megabytes` MB of empty objects (3 bytes each). */
export function emptyObjectsBomb(megabytes: number): Buffer<ArrayBuffer> {
  const block = '{},'.repeat(MB / 2); // 1.5 MB a member
  return gzipRepeated('[', block, Math.ceil(megabytes / 1.5), '{}]');
}

/** One point holding arrays nested `depth` deep. */
export function deepNestingBomb(depth: number): Buffer<ArrayBuffer> {
  const head = '[{"passive-data-metadata":{"source":"deep","generator-id":"deep","timestamp":1765000000},"x":';
  const step = 1_000_000;
  return Buffer.concat([
    gzipRepeated(head, '['.repeat(step), Math.ceil(depth / step), ''),
    gzipRepeated('', ']'.repeat(step), Math.ceil(depth / step), '}]'),
  ]);
}

/** One point whose one string is about `megabytes` MB long. */
export function hugeStringBomb(megabytes: number): Buffer<ArrayBuffer> {
  const head = '[{"passive-data-metadata":{"source":"huge","generator-id":"huge","timestamp":1765000000},"x":"';
  return gzipRepeated(head, 'x'.repeat(MB), megabytes, '"}]');
}
