/**
 * The content hash computed in Node (content-hash.ts) equals PostgreSQL's
 * jsonb_hash_extended(point, 0), the value data_points.content_hash has always held: on the 49
 * real sample points, on values built to reach every branch (string lengths around the 12-byte
 * blocks, non-ASCII keys and values, escapes, every kind of number, nesting, duplicate keys) and
 * on thousands of random values. The texts go to PostgreSQL as sent (text -> jsonb).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFromText, hashText, jsonbHash } from '../../src/processing/content-hash.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** PostgreSQL's hash of each JSON text, in one round trip. */
async function sqlHashes(texts: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ h: string }>(
    'SELECT jsonb_hash_extended(t::jsonb, 0)::text AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i',
    [texts],
  );
  return rows.map((r) => r.h);
}

async function expectSameHashes(texts: string[]): Promise<void> {
  const expected = await sqlHashes(texts);
  const actual = texts.map((t) => hashText(jsonbHash(JSON.parse(t))));
  const mismatches = texts.flatMap((t, i) => (actual[i] === expected[i] ? [] : [{ text: t.slice(0, 200), node: actual[i], sql: expected[i] }]));
  expect(mismatches).toEqual([]);
}

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', 'é', 'ß', '中', '€', '😀', '\u0001', '\u007f', '\u0080', '\uffff'];
function randomString(): string {
  const length = Math.floor(random() ** 2 * 60);
  return Array.from({ length }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join('');
}
function randomNumber(): number {
  switch (Math.floor(random() * 6)) {
    case 0: return Math.floor(random() * 1e6) - 5e5;
    case 1: return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    case 2: return Math.round(random() * 1e13) / 1000;
    case 3: return Number((random() * 100).toFixed(Math.floor(random() * 6)));
    case 4: return Math.floor(random() * 2 ** 53);
    default: return [0, -0, 1, -1, 10000, 1e21, 1e-7, 0.1, 123456789012345680000][Math.floor(random() * 9)];
  }
}
function randomValue(depth: number): unknown {
  const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
  if (kind === 0) return randomString();
  if (kind === 1) return randomNumber();
  if (kind === 2) return random() < 0.5;
  if (kind === 3) return null;
  if (kind === 4) return Array.from({ length: Math.floor(random() * 5) }, () => randomValue(depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [randomString(), randomValue(depth + 1)]));
}

describe('content hash in Node', () => {
  it('equals jsonb_hash_extended for the 49 sample points', async () => {
    await expectSameHashes(SAMPLES.map((p) => JSON.stringify(p)));
  });

  it('equals it for every string length around the 12-byte blocks, ASCII and not', async () => {
    const texts: string[] = [];
    for (let n = 0; n <= 40; n++) {
      texts.push(JSON.stringify({ v: 'x'.repeat(n) }), JSON.stringify({ v: 'é'.repeat(n) }), JSON.stringify({ ['k'.repeat(n) || 'e']: n }));
      texts.push(JSON.stringify({ v: 'a😀'.repeat(n) }), JSON.stringify([`${'b'.repeat(n)}中`]));
    }
    texts.push(JSON.stringify({ long: 'y'.repeat(100_000) }), JSON.stringify({ v: '\u0000'.slice(1) + 'tab\tnew\nline "q" \\ /' }));
    await expectSameHashes(texts);
  });

  it('equals it for keys in jsonb order (length, then bytes), non-ASCII keys and duplicate keys', async () => {
    await expectSameHashes([
      '{"b": 1, "a": 2, "aa": 3, "B": 4, "_": 5, "10": 6, "9": 7, "": 8}',
      '{"é": 1, "e": 2, "ee": 3, "z": 4, "中": 5, "😀": 6, "\uffff": 7, "\ue000": 8}',
      '{"a": 1, "b": 2, "a": 3}',
      '{"a": {"x": 1, "x": {"y": [1, 2]}}, "a": {"z": null}}',
      '{"__proto__": 1, "constructor": 2}',
      '{"\\u0061": 1, "b\\u00e9": "\\u00e9\\ud83d\\ude00"}',
    ]);
  });

  it('equals it for numbers of every shape, including the text forms PostgreSQL keeps', async () => {
    const numbers = ['0', '-0', '0.0', '1', '-1', '1.0', '1.50', '10000', '100000000', '9999', '12345.6789', '0.0001', '0.00012',
      '1e5', '1E-5', '-2.5e+3', '1790000000.137', '1790000000137', '1553612034.171813', '1769629874.1024308',
      '0.30000000000000004', '9007199254740991', '1e21', '1.7976931348623157e308', '5e-324', '123456789012345',
      '0.000000000000001', '42.36012345678901', '-0.000125', '99999999.99999999'];
    await expectSameHashes(numbers.map((n) => `{"n": ${n}, "a": [${n}, {"m": ${n}}]}`));
  });

  it('equals it for empty and nested containers and scalars', async () => {
    await expectSameHashes(['{}', '[]', '{"a": {}}', '{"a": []}', '[[], {}, [[]]]', '{"t": true, "f": false, "n": null}', '"text"', '5', 'true', 'null', '[null]']);
  });

  it('equals it for 3,000 random values', async () => {
    const texts = Array.from({ length: 3000 }, () => JSON.stringify(randomValue(0)));
    await expectSameHashes(texts);
  });

  it('converts between halves and int8 text both ways', () => {
    for (const text of ['0', '-1', '1', '9223372036854775807', '-9223372036854775808', '-4736381291046023445', '4294967296']) {
      expect(hashText(hashFromText(text))).toBe(text);
    }
  });
});
