import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { ParquetFileWriter, type ParquetColumn } from '../../src/exports/parquet-writer.ts';

// Read back with hyparquet, an independent reader (hyparquet-writer only shares its types).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-parquet-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
const tmpFile = () => path.join(dir, `t${n++}.parquet`);

function load(file: string): ArrayBuffer {
  const buf = fs.readFileSync(file);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

/** Rows as objects; timestamps as raw bigint microseconds (hyparquet's default gives a millisecond Date). */
function readRaw(file: ArrayBuffer) {
  return parquetReadObjects({ file, parsers: { timestampFromMicroseconds: (micros: bigint) => micros } });
}

const COLUMNS: ParquetColumn[] = [
  { name: 's', type: 'string' },
  { name: 'i', type: 'int' },
  { name: 'd', type: 'double' },
  { name: 'b', type: 'bool' },
  { name: 't', type: 'time' },
];

const MS = Date.UTC(2023, 8, 14, 15, 43, 9, 482);
const MICROS = MS * 1000 + 123;
const AWKWARD = 'tab\there\nnew "line" \'q\' \\ \r\n end';

describe('ParquetFileWriter', () => {
  it('writes all five types, nulls and conversions, cell by cell', async () => {
    const file = tmpFile();
    const w = new ParquetFileWriter(file, COLUMNS, { createdBy: 'dcs test', kvMetadata: [{ key: 'export', value: 'x' }] });
    const rows: unknown[][] = [
      ['Zürich ✓', 1, 1.5, true, MICROS],
      [AWKWARD, '42', '2.25', false, 0],
      [null, null, null, null, null],
      [undefined, undefined, undefined, undefined, undefined],
      [{ a: 1, b: ['x', null] }, 'abc', 'abc', 'true', '1694706189482123'],
      [[1, 'x', null], ' 7 ', '', 1, -1],
      [3.5, 3.9, NaN, 0, new Date(MS)],
      [true, '9007199254740993', Infinity, {}, 1e300],
      ['', '9223372036854775808', -0.5, 'false', NaN],
    ];
    for (const r of rows) expect(w.addRow(r)).toBeUndefined();
    expect(await w.close()).toBe(rows.length);

    const buf = load(file);
    const got = await readRaw(buf);
    expect(got).toEqual([
      { s: 'Zürich ✓', i: 1n, d: 1.5, b: true, t: BigInt(MICROS) },
      { s: AWKWARD, i: 42n, d: 2.25, b: false, t: 0n },
      { s: null, i: null, d: null, b: null, t: null },
      { s: null, i: null, d: null, b: null, t: null },
      { s: '{"a":1,"b":["x",null]}', i: null, d: null, b: null, t: null }, // time: numbers only
      { s: '[1,"x",null]', i: 7n, d: null, b: null, t: -1n },
      { s: '3.5', i: 3n, d: NaN, b: null, t: BigInt(MS) * 1000n }, // Date → ms precision
      { s: 'true', i: 9007199254740993n, d: Infinity, b: null, t: null }, // 1e300 µs: beyond INT64 → null
      { s: '', i: null, d: -0.5, b: null, t: null }, // int beyond INT64 → null
    ]);
    // Exact comparison of the micros: 1694706189482123 is below 2^53, so the JS number was exact.
    expect(got[0].t).toBe(1694706189482123n);

    // hyparquet's default timestamp parser: a Date, truncated to the millisecond (micros lost).
    const dflt = await parquetReadObjects({ file: buf });
    expect(dflt[0].t).toBeInstanceOf(Date);
    expect((dflt[0].t as Date).getTime()).toBe(MS);
    expect((dflt[0].t as Date).toISOString()).toBe('2023-09-14T15:43:09.482Z');

    const md = parquetMetadata(buf);
    expect(md.created_by).toBe('dcs test');
    expect(md.key_value_metadata).toEqual([{ key: 'export', value: 'x' }]);
    expect(md.row_groups[0].columns.every((c) => c.meta_data?.codec === 'SNAPPY')).toBe(true);
  });

  it('flushes a row group every rowGroupRows rows: 25,001 rows → 3 row groups', async () => {
    const file = tmpFile();
    const w = new ParquetFileWriter(file, COLUMNS, { rowGroupRows: 10_000 });
    const row = (k: number) => [`row ${k} ✓`, k, k / 4, k % 3 === 0, MICROS + k];
    let flushes = 0;
    for (let k = 0; k < 25_001; k++) {
      const p = w.addRow(row(k));
      if (p) {
        flushes++;
        expect(k + 1).toBe(flushes * 10_000);
        await p;
      }
    }
    expect(flushes).toBe(2);
    expect(await w.close()).toBe(25_001);

    const buf = load(file);
    const md = parquetMetadata(buf);
    expect(md.num_rows).toBe(25_001n);
    expect(md.row_groups.map((g) => g.num_rows)).toEqual([10_000n, 10_000n, 5_001n]);

    const got = await readRaw(buf);
    expect(got).toHaveLength(25_001);
    const expected = (k: number) => ({ s: `row ${k} ✓`, i: BigInt(k), d: k / 4, b: k % 3 === 0, t: BigInt(MICROS + k) });
    for (const k of [0, 9_999, 10_000, 19_999, 20_000, 25_000]) expect(got[k]).toEqual(expected(k));
    expect(got.at(-1)).toEqual({ s: 'row 25000 ✓', i: 25_000n, d: 6_250, b: false, t: BigInt(MICROS + 25_000) });
  });

  it('declares the intended physical, converted and logical types, all optional', async () => {
    const file = tmpFile();
    const w = new ParquetFileWriter(file, COLUMNS);
    w.addRow(['x', 1, 1, true, MICROS]);
    await w.close();

    const tree = parquetSchema(parquetMetadata(load(file)));
    const el = Object.fromEntries(tree.children.map((c) => [c.element.name, c.element]));
    expect(tree.children.map((c) => c.element.name)).toEqual(['s', 'i', 'd', 'b', 't']);
    expect(tree.element.num_children).toBe(5);
    for (const c of tree.children) expect(c.element.repetition_type).toBe('OPTIONAL');
    expect(el.s).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } });
    expect(el.i).toMatchObject({ type: 'INT64' });
    expect(el.i.converted_type).toBeUndefined();
    expect(el.i.logical_type).toBeUndefined();
    expect(el.d).toMatchObject({ type: 'DOUBLE' });
    expect(el.b).toMatchObject({ type: 'BOOLEAN' });
    expect(el.t).toMatchObject({
      type: 'INT64',
      converted_type: 'TIMESTAMP_MICROS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    });
  });

  it('zero rows: close() gives a valid file with the schema and no rows', async () => {
    const file = tmpFile();
    const w = new ParquetFileWriter(file, COLUMNS);
    expect(await w.close()).toBe(0);

    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(-4).toString()).toBe('PAR1');
    const buf = load(file);
    const md = parquetMetadata(buf);
    expect(md.num_rows).toBe(0n);
    expect(md.row_groups).toEqual([]);
    expect(parquetSchema(md).children.map((c) => [c.element.name, c.element.type])).toEqual([
      ['s', 'BYTE_ARRAY'], ['i', 'INT64'], ['d', 'DOUBLE'], ['b', 'BOOLEAN'], ['t', 'INT64'],
    ]);
    expect(await parquetReadObjects({ file: buf })).toEqual([]);
  });

  it('rejects misuse: wrong row width, addRow after close, an unwritable path', async () => {
    const w = new ParquetFileWriter(tmpFile(), COLUMNS);
    expect(() => w.addRow(['only one'])).toThrow(/expected 5/);
    const closed = w.close();
    expect(w.close()).toBe(closed);
    await closed;
    expect(() => w.addRow(['x', 1, 1, true, 1])).toThrow(/after close/);

    const bad = new ParquetFileWriter(path.join(dir, 'missing', 'x.parquet'), COLUMNS);
    bad.addRow(['x', 1, 1, true, 1]);
    await expect(bad.close()).rejects.toThrow(/ENOENT/);
  });
});
