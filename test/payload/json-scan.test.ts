/**
 * The streaming bundle check accepts exactly what processing can parse (JSON.parse after
 * toStorableJson, with an array or object at the root), however the bytes are cut into chunks, and
 * enforces its limits.
 */
import { describe, expect, it } from 'vitest';
import { toStorableJson } from '../../src/payload/json-text.ts';
import { JsonScanner, type ScanLimits } from '../../src/payload/json-scan.ts';
import { SAMPLES } from '../helpers/samples.ts';

const WIDE: ScanLimits = { maxDepth: 10_000, maxElements: 1e9, maxElementBytes: 1e9, maxElementValues: 1e9 };

function scan(bytes: Buffer, limits = WIDE, chunk = bytes.length || 1) {
  const elements: [number, number][] = [];
  const scanner = new JsonScanner(limits, (start, end) => elements.push([start, end]));
  for (let at = 0; at < bytes.length; at += chunk) scanner.push(bytes.subarray(at, at + chunk));
  return { ...scanner.end(), spans: elements };
}

function accepts(bytes: Buffer): boolean {
  try {
    scan(bytes);
    return true;
  } catch (error) {
    expect((error as Error).name).toBe('PayloadError');
    return false;
  }
}

function parses(bytes: Buffer): boolean {
  try {
    const value = JSON.parse(toStorableJson(bytes.toString('utf8')));
    return value !== null && typeof value === 'object';
  } catch {
    return false;
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 4 || r < 0.3) {
    const pick = Math.floor(next() * 7);
    return [() => Math.floor(next() * 1e6) - 5e5, () => next() * 1e3 - 500, () => (next() < 0.5 ? true : false), () => null,
      () => 'text ' + String.fromCharCode(...Array.from({ length: Math.floor(next() * 8) }, () => Math.floor(next() * 0x2500))),
      () => '\u00e9\u4e2d\ud83d\ude00"\\\n\t', () => -0.000123e-7][pick]();
  }
  if (r < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}${next() < 0.2 ? '\u00fc' : ''}`, randomValue(next, depth + 1)]));
}

const ALPHABET = Buffer.from('[]{}",:.-+eE0159tfnrlsu\\/ \n\t\u0000\u0001x\u00c3');

describe('JsonScanner', () => {
  it('reads the sample bundle, each point as an element at its own offsets', () => {
    const text = JSON.stringify(SAMPLES);
    const bytes = Buffer.from(text);
    const result = scan(bytes);
    expect(result).toMatchObject({ rootIsArray: true, elements: SAMPLES.length, bytes: bytes.length });
    expect(result.spans.map(([s, e]) => JSON.parse(bytes.subarray(s, e).toString()))).toEqual(SAMPLES);
  });

  it('gives the same answer and offsets whatever the chunk size', () => {
    const bytes = Buffer.from(JSON.stringify(SAMPLES, null, 1));
    const whole = scan(bytes);
    for (const chunk of [1, 2, 3, 7, 64, 1000]) expect(scan(bytes, WIDE, chunk)).toEqual(whole);
  });

  it('accepts exactly what JSON.parse accepts after toStorableJson (random values, then random damage)', () => {
    const next = random(17);
    let accepted = 0;
    for (let n = 0; n < 6000; n++) {
      const value = n % 2 === 0 ? [randomValue(next, 0), randomValue(next, 0)] : { a: randomValue(next, 0) };
      const bytes = Buffer.from(next() < 0.5 ? JSON.stringify(value) : JSON.stringify(value, null, 2));
      let damaged = Buffer.from(bytes);
      for (let k = n % 4; k > 0; k--) {
        const at = Math.floor(next() * damaged.length);
        const byte = Buffer.of(ALPHABET[Math.floor(next() * ALPHABET.length)]);
        const how = next();
        if (how < 0.4) damaged[at] = byte[0];
        else if (how < 0.7) damaged = Buffer.concat([damaged.subarray(0, at), byte, damaged.subarray(at)]);
        else damaged = Buffer.concat([damaged.subarray(0, at), damaged.subarray(at + 1)]);
      }
      const expected = parses(damaged);
      if (accepts(damaged) !== expected) throw new Error(`disagrees with JSON.parse on ${JSON.stringify(damaged.toString('latin1'))}`);
      if (expected) accepted += 1;
    }
    expect(accepted).toBeGreaterThan(1500);
    expect(accepted).toBeLessThan(5000);
  });

  it.each([
    ['[1,]'], ['[01]'], ['[1.]'], ['[.5]'], ['[1e]'], ['[-]'], ['["a\u0001"]'], ['["\\x"]'], ['["\\u12g4"]'], ['[tru]'], ['[nul]'],
    ['{"a" 1}'], ['{1:2}'], ['[1}'], ['{"a":1]'], ['[1] x'], ['[1]]'], ['[1 2]'], ['5'], ['"text"'], ['null'], [''], ['   '], ['[\u00e9]'], ['[1'],
  ])('refuses %j like JSON.parse', (text) => {
    const bytes = Buffer.from(text);
    expect(parses(bytes) && ['[', '{'].includes(text.trim()[0])).toBe(false);
    expect(accepts(bytes)).toBe(false);
  });

  it.each([
    ['[]'], ['{}'], [' [ 1 , -0.5e+3 , 2E-2 , "\\u00e9\\"\\\\" , true , false , null , [ ] , { } ] '], ['["\u0000"]'], ['[1\u00002]'], ['{"k":"\u00ff\u4e2d"}'],
  ])('accepts %j like JSON.parse', (text) => {
    expect(parses(Buffer.from(text))).toBe(true);
    expect(accepts(Buffer.from(text))).toBe(true);
  });

  it('enforces the nesting, element-count, element-size and element-values limits', () => {
    const limits: ScanLimits = { maxDepth: 4, maxElements: 3, maxElementBytes: 20, maxElementValues: 5 };
    expect(() => scan(Buffer.from('[[1,2,3,4],[5]]'), limits)).not.toThrow();
    expect(() => scan(Buffer.from('[[1,2,3,4,5]]'), limits)).toThrow(/more than 5 JSON values/);
    expect(() => scan(Buffer.from('{"a":[1,2,3]}'), limits)).not.toThrow();
    expect(() => scan(Buffer.from('{"a":[1,2,3,4]}'), limits)).toThrow(/more than 5 JSON values/);
    expect(() => scan(Buffer.from('[[[[1]]]]'), limits)).not.toThrow();
    expect(() => scan(Buffer.from('[[[[[1]]]]]'), limits)).toThrow(/nested more than 4 levels/);
    expect(() => scan(Buffer.from('[{},{},{}]'), limits)).not.toThrow();
    expect(() => scan(Buffer.from('[{},{},{},{}]'), limits)).toThrow(/more than 3 data points/);
    expect(() => scan(Buffer.from(`[${JSON.stringify('x'.repeat(18))}]`), limits)).not.toThrow();
    expect(() => scan(Buffer.from(`[${JSON.stringify('x'.repeat(19))}]`), limits)).toThrow(/larger than 20 bytes/);
    // a point that never ends is refused as soon as a chunk shows it is too large
    const scanner = new JsonScanner(limits);
    scanner.push(Buffer.from('[{"a":"'));
    expect(() => scanner.push(Buffer.alloc(64, 'x'))).toThrow(/larger than 20 bytes/);
  });

  it('refuses 50 million nested arrays at the depth limit, having read only that far', () => {
    const scanner = new JsonScanner({ maxDepth: 512, maxElements: 10, maxElementBytes: 1e9, maxElementValues: 1e9 });
    expect(() => scanner.push(Buffer.alloc(1024 * 1024, '['))).toThrow(/nested more than 512 levels/);
  });
});
