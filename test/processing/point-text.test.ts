/**
 * point-text.ts finds each point's text in its bundle's and where its metadata object ends:
 * checked against JSON.parse on the samples and on random bundles written with any whitespace,
 * and on the hard cases one by one.
 */
import { describe, expect, it } from 'vitest';
import { scanBundle } from '../../src/processing/point-text.ts';
import { SAMPLES } from '../helpers/samples.ts';

/** Every object element re-read from its span, with the flag inserted where processing inserts it. */
function expectSpansMatch(text: string): void {
  const parsed = JSON.parse(text) as unknown[];
  const spans = scanBundle(text);
  expect(spans).toHaveLength(parsed.length);
  parsed.forEach((value, i) => {
    const span = spans[i];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      expect(span.start).toBe(-1);
      return;
    }
    expect(JSON.parse(text.slice(span.start, span.end))).toEqual(value);
    const meta = (value as Record<string, unknown>)['passive-data-metadata'];
    if (meta !== null && typeof meta === 'object' && !Array.isArray(meta) && Object.keys(meta).length > 0) {
      expect(text[span.metadataEnd]).toBe('}');
      const flagged = JSON.parse(`${text.slice(span.start, span.metadataEnd)},"encrypted_transmission":true${text.slice(span.metadataEnd, span.end)}`);
      expect(flagged).toEqual({ ...value, 'passive-data-metadata': { ...meta, encrypted_transmission: true } });
    }
  });
}

let seed = 11;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const TRICKY = ['{', '}', '[', ']', '"', '\\', '\\"', ':', ',', 'passive-data-metadata', '1e400', ' ', '\n', 'é', '😀'];
const tricky = () => Array.from({ length: Math.floor(random() * 8) }, () => TRICKY[Math.floor(random() * TRICKY.length)]).join('');
function randomValue(depth: number): unknown {
  const kind = Math.floor(random() * (depth > 2 ? 4 : 6));
  if (kind === 0) return tricky();
  if (kind === 1) return (random() - 0.5) * 10 ** Math.floor(random() * 30 - 10);
  if (kind === 2) return random() < 0.5 ? random() < 0.5 : null;
  if (kind === 3) return Math.floor(random() * 1e6);
  if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [tricky(), randomValue(depth + 1)]));
}
function randomPoint(): unknown {
  if (random() < 0.1) return randomValue(2);
  const point: Record<string, unknown> = Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [tricky(), randomValue(2)]));
  point['passive-data-metadata'] = { source: tricky(), generator: tricky(), nested: randomValue(2) };
  if (random() < 0.3) point.after = randomValue(2);
  return point;
}

describe('scanBundle', () => {
  it('finds the 49 sample points and their metadata, compact or indented', () => {
    expectSpansMatch(JSON.stringify(SAMPLES));
    expectSpansMatch(JSON.stringify(SAMPLES, null, 2));
    expectSpansMatch(JSON.stringify(SAMPLES, null, '\t'));
  });

  it('finds them in 500 random bundles with strings full of JSON syntax', () => {
    for (let n = 0; n < 500; n++) {
      const bundle = Array.from({ length: Math.floor(random() * 6) }, randomPoint);
      expectSpansMatch(JSON.stringify(bundle, null, [0, 1, 2][n % 3]));
    }
  });

  it('takes the last of duplicate metadata keys, and the key written with escapes', () => {
    const text = '[{"passive-data-metadata": {"source": "a"}, "x": 1, "passive-data-metadata": {"source": "b"}},'
      + ' {"passive\\u002ddata-metadata": {"source": "c"}}, {"passive-data-metadata": "text", "y": [1]}, 5, "s", null, [1, {}]]';
    const spans = scanBundle(text);
    expect(spans).toHaveLength(7);
    expect(text.slice(spans[0].metadataEnd - 13, spans[0].metadataEnd + 1)).toBe('"source": "b"}');
    expect(text.slice(spans[1].metadataEnd - 13, spans[1].metadataEnd + 1)).toBe('"source": "c"}');
    expect(spans[2].metadataEnd).toBe(-1);
    expect(spans.slice(3).map((s) => s.start)).toEqual([-1, -1, -1, -1]);
  });

  it('reads numbers of every form, as elements and inside points', () => {
    const numbers = ['12345678901234567890', '1e400', '-1E-5', '2.5e+3', '-0', '1.50', '0'];
    expectSpansMatch(`[${numbers.map((n) => `{"n": [${n}], "passive-data-metadata": {"t": ${n}}}`).join(', ')}, ${numbers.join(',')}]`);
    expect(scanBundle(`[${numbers.join(', ')}]`)).toHaveLength(numbers.length);
  });
});
