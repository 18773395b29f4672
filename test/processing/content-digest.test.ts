/**
 * The content digest computed in Node (content-digest.ts) equals PostgreSQL's dcs_point_digest()
 * (migration 0009), which gave stored points theirs: the jsonb text Node prints is the text
 * PostgreSQL prints, on the 49 real sample points, on texts written with every escape, key order,
 * duplicate key and number form, and on thousands of random values written with random
 * whitespace and escapes. And the digest tells apart what the former 64-bit hash merged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFromUuid, digestOf, printJsonb } from '../../src/processing/content-digest.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** PostgreSQL's jsonb text (without the flag) and digest of each JSON text, in one round trip. */
async function sqlPrinted(texts: string[]): Promise<{ text: string; digest: string }[]> {
  const { rows } = await db.pool.query<{ text: string; digest: string }>(
    `SELECT CASE WHEN jsonb_typeof(j -> 'passive-data-metadata') = 'object' THEN j #- '{passive-data-metadata,encrypted_transmission}' ELSE j END::text AS text,
            dcs_point_digest(j)::text AS digest
     FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) CROSS JOIN LATERAL (SELECT t::jsonb AS j) p ORDER BY i`,
    [texts],
  );
  return rows.map((r) => ({ text: r.text, digest: digestFromUuid(r.digest) }));
}

const nodeDigest = (text: string) => digestOf(printJsonb(text, 0).jsonb!);

async function expectSamePrinting(texts: string[]): Promise<void> {
  const expected = await sqlPrinted(texts);
  const mismatches = texts.flatMap((t, i) => {
    const printed = printJsonb(t, 0);
    const node = printed.jsonb === undefined ? undefined : { text: printed.jsonb, digest: digestOf(printed.jsonb) };
    return node?.text === expected[i].text && node.digest === expected[i].digest ? [] : [{ sent: t.slice(0, 300), node: node?.text.slice(0, 300), sql: expected[i].text.slice(0, 300) }];
  });
  expect(mismatches).toEqual([]);
  for (const t of texts) expect(printJsonb(t, 0).end).toBe(t.trimEnd().length); // the whole value was read
}

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\b', '\f', '\r', 'é', 'ß', '中', '€', '😀', '\u0001', '\u001f', '\u007f', '\u0080', '\u2028', '\uffff'];
function randomString(): string {
  return Array.from({ length: Math.floor(random() ** 2 * 40) }, () => pick(ALPHABET)).join('');
}
/** A number as a client could write it: any digits, no exponent (those are PostgreSQL's to print). */
function randomNumber(): string {
  const sign = random() < 0.3 ? '-' : '';
  const whole = pick(['0', String(Math.floor(random() * 10)), String(Math.floor(random() * 1e6)), String(Math.floor(random() * 2 ** 53)), '12345678901234567890123']);
  const fraction = random() < 0.5 ? '' : `.${Array.from({ length: 1 + Math.floor(random() * 20) }, () => pick(['0', '1', '5', '9'])).join('')}`;
  return `${sign}${whole}${fraction}`;
}
/** JSON text of a random value, written with random whitespace, key order, escapes and duplicate keys. */
function randomText(depth: number): string {
  const space = () => pick(['', '', ' ', '\n  ', '\t']);
  const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
  if (kind === 0) return writeString(randomString());
  if (kind === 1) return randomNumber();
  if (kind === 2) return pick(['true', 'false']);
  if (kind === 3) return 'null';
  if (kind === 4) return `[${space()}${Array.from({ length: Math.floor(random() * 5) }, () => randomText(depth + 1)).join(`${space()},${space()}`)}${space()}]`;
  const members = Array.from({ length: Math.floor(random() * 6) }, () => `${writeString(random() < 0.3 ? pick(['a', 'b', 'é']) : randomString())}${space()}:${space()}${randomText(depth + 1)}`);
  return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
}
/** A string literal with some characters escaped as JSON allows (\uXXXX in either case, \/). */
function writeString(value: string): string {
  return `"${[...JSON.stringify(value).slice(1, -1).matchAll(/\\u[0-9a-f]{4}|\\.|[\s\S]/gu)].map(([c]) => {
    if (random() < 0.7) return c;
    if (c === '/') return '\\/';
    if (c.startsWith('\\u')) return c.toUpperCase().replace('\\U', '\\u');
    if (c.length === 1 && c !== '\\' && c !== '"') return [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    if (c.length === 2 && !c.startsWith('\\')) return `\\u${c.charCodeAt(0).toString(16)}\\u${c.charCodeAt(1).toString(16)}`; // a surrogate pair
    return c;
  }).join('')}"`;
}

describe('content digest in Node', () => {
  it('equals dcs_point_digest for the 49 sample points, compact and indented', async () => {
    await expectSamePrinting([...SAMPLES.map((p) => JSON.stringify(p)), ...SAMPLES.map((p) => JSON.stringify(p, null, 2))]);
  });

  it('prints strings as PostgreSQL does, whatever escapes they were sent with', async () => {
    await expectSamePrinting([
      '{"s": "tab\\tquote\\" backslash\\\\ slash\\/ \\b\\f\\n\\r"}',
      '{"s": "\\u0001\\u001f\\u001F\\u0008\\u0009\\u000a\\u000A\\u000c\\u000d\\u000b\\u007f\\u0080\\u00e9\\u00E9"}',
      '{"s": "\\ud83d\\ude00 😀 中文 \u2028 \u007f", "\\u00e9": "é"}',
      '{"": "", "x": "\\\\", "y": "\\\\\\"", "z": "\\"\\\\"}',
      JSON.stringify({ long: 'y'.repeat(100_000), html: '<a href="x">\\</a>'.repeat(1000) }),
    ]);
  });

  it('orders keys as jsonb does, keeps the last of duplicate keys, drops only the processing flag', async () => {
    await expectSamePrinting([
      '{"b": 1, "a": 2, "aa": 3, "B": 4, "_": 5, "10": 6, "9": 7, "": 8}',
      '{"é": 1, "e": 2, "ee": 3, "z": 4, "中": 5, "😀": 6, "\\uffff": 7, "\\ue000": 8}',
      '{"a": 1, "b": 2, "a": 3}',
      '{"a": {"x": 1, "x": {"y": [1, 2]}}, "a": {"z": null}}',
      '{"__proto__": 1, "constructor": 2, "\\u0061": 3}',
      '{"passive-data-metadata": {"source": "s", "encrypted_transmission": true}, "encrypted_transmission": 1}',
      '{"passive-data-metadata": {"encrypted_transmission": false}}',
      '{"x": {"passive-data-metadata": {"encrypted_transmission": false}}}',
      '{"passive-data-metadata": {"source": "a"}, "passive-data-metadata": {"source": "b", "encrypted_transmission": 1}}',
      '{"passive\\u002ddata-metadata": {"encrypted_\\u0074ransmission": "x", "y": 1}}',
      '{"passive-data-metadata": [{"encrypted_transmission": 1}], "encrypted_transmission": 2}',
      '[{"passive-data-metadata": {"encrypted_transmission": 1}}]',
    ]);
  });

  it('prints numbers with their digits as sent, and leaves those with an exponent to PostgreSQL', async () => {
    const numbers = ['0', '-0', '0.0', '-0.000', '1', '-1', '1.0', '1.50', '10000', '0.0001', '0.00012', '1790000000.137',
      '1790000000137', '1553612034.171813', '1769629874102.431', '0.30000000000000004', '9007199254740993', '12345678901234567890',
      '123456789012345678901234567890.12345678901234567890', '0.000000000000001', '-42.36012345678901', '-0.000125', '99999999.99999999'];
    await expectSamePrinting(numbers.map((n) => `{"n": ${n}, "a": [${n}, {"m": ${n}}]}`));
    for (const n of ['1e5', '1E-5', '-2.5e+3', '1e21', '0e0', '-0E1']) expect(printJsonb(`{"n": [${n}]}`, 0).jsonb, n).toBeUndefined();
  });

  it('equals it for empty and nested containers and scalars', async () => {
    await expectSamePrinting(['{}', '[]', '{"a": {}}', '{"a": []}', '[[], {}, [[]]]', '{"t": true, "f": false, "n": null}', '"text"', '5', 'true', 'null', '[null]', ' [ 1 , [ ] ] ']);
  });

  it('equals it for 3,000 random values written with random whitespace, key order and escapes', async () => {
    await expectSamePrinting(Array.from({ length: 3000 }, () => randomText(0)));
  });

  it('reads a value where it starts in a larger text, and tells where it ends', () => {
    const bundle = '[{"a": "\\\\"}, {"b": "x\\"y"}, 3]';
    const first = printJsonb(bundle, 1);
    expect(first).toEqual({ jsonb: '{"a": "\\\\"}', end: 12 });
    expect(printJsonb(bundle, 14)).toEqual({ jsonb: '{"b": "x\\"y"}', end: 27 });
    expect(printJsonb(bundle, 1).jsonb).toBe(first.jsonb); // read again from before
  });
});

describe('what the digest merges and what it keeps apart', () => {
  const point = (body: string) => `{"passive-data-metadata": {"source": "s", "generator": "g", "timestamp": 1790000000.5}, ${body}}`;

  it('merges the same point re-sent with other whitespace, key order, escapes or flag', () => {
    const sent = point('"offset": {"top": 1.5, "left": -2}, "url": "https://a.example/é"');
    const same = [
      JSON.stringify(JSON.parse(sent), null, 2),
      '{"url": "https:\\/\\/a.example\\/\\u00e9", "offset": {"left": -2, "top": 1.5}, "passive-data-metadata": {"timestamp": 1790000000.5, "generator": "g", "source": "s", "encrypted_transmission": true}}',
      point('"offset": {"top": 7, "left": -2}, "url": "https://a.example/é", "offset": {"top": 1.5, "left": -2}'),
    ];
    for (const text of same) expect(nodeDigest(text), text).toBe(nodeDigest(sent));
  });

  it('keeps apart points that differ in a sign, a digit, a string or the digits written', () => {
    const digests = [
      point('"offset": {"top": 1.5, "left": 2}'),
      point('"offset": {"top": -1.5, "left": -2}'),
      point('"offset": {"top": 1.5, "left": -2}'),
      point('"offset": {"top": 1.50, "left": 2}'),
      point('"offset": {"top": 1.5, "left": 3}'),
      point('"offset": {"top": "1.5", "left": 2}'),
    ].map(nodeDigest);
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('keeps apart the points that jsonb_hash_extended merged (signs, values 32 apart, nested containers)', async () => {
    const array = (at: Record<number, string>) => `[${Array.from({ length: 41 }, (_, i) => at[i] ?? String(i)).join(', ')}]`;
    const pairs = [
      [point('"a": 1.5, "b": 2'), point('"a": -1.5, "b": -2')],
      [point(`"items": ${array({ 0: '"p"', 32: '"p"' })}`), point(`"items": ${array({ 0: '"q"', 32: '"q"' })}`)],
      [point(`"items": ${array({ 3: '"p"', 35: '"q"' })}`), point(`"items": ${array({ 3: '"q"', 35: '"p"' })}`)],
      [point('"a": [], "b": 1'), point('"a": [{}, {}], "b": 1')],
    ];
    const { rows } = await db.pool.query<{ same: boolean }>(
      'SELECT jsonb_hash_extended(a::jsonb, 0) = jsonb_hash_extended(b::jsonb, 0) AS same FROM unnest($1::text[], $2::text[]) AS u(a, b)',
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    expect(rows.map((r) => r.same)).toEqual(pairs.map(() => true)); // the former key merged each pair
    for (const [a, b] of pairs) expect(nodeDigest(a)).not.toBe(nodeDigest(b));
  });
});
