/**
 * PostgreSQL sends an exporter only the keys its columns say they read (Column.reads): every
 * exporter must write exactly the same cells from those keys as from the whole point, for every
 * real-format sample of its data types and for samples carrying every key an exporter knows.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WEBMUNK_EXPORTERS } from '../../src/exports/columns/index.ts';
import { ExportPoint, type StoredPoint } from '../../src/exports/export-point.ts';
import { keysRead, textKeysRead, writerValue, type Column } from '../../src/exports/exporter.ts';
import { tsvCell, tsvLine, writeTsvRow } from '../../src/exports/tsv.ts';
import { Utf8Text } from '../../src/exports/utf8-text.ts';
import { DONATED_AMAZON_ITEM } from '../helpers/donations.ts';
import { SAMPLES as WEBMUNK_SAMPLES } from '../helpers/samples.ts';

/** The extension's samples and donated points' (the Amazon item from test/helpers/donations.ts, the importers' in test/fixtures/donations/). */
const DONATED = JSON.parse(readFileSync(new URL('../fixtures/donations/sample-points.json', import.meta.url), 'utf8')) as typeof WEBMUNK_SAMPLES;
const SAMPLES = [...WEBMUNK_SAMPLES, DONATED_AMAZON_ITEM, ...DONATED];

/** The point as stored, its properties those given (the whole point, or what PostgreSQL sends). */
function stored(point: Record<string, unknown>, properties = point): StoredPoint {
  const meta = point['passive-data-metadata'] as Record<string, unknown>;
  return { source: String(meta.source), generatorId: String(meta['generator-id']), generator: String(meta.generator), createdMicros: 1_694_706_191_027_000, recordedMicros: 1_694_706_200_000_000, properties };
}

/** What point-query sends for `keys`: those keys, and of the metadata its zone and generated-key. */
function projected(properties: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const meta = properties['passive-data-metadata'] as Record<string, unknown>;
  const result: Record<string, unknown> = { 'passive-data-metadata': { timezone: meta.timezone, 'generated-key': meta['generated-key'] } };
  for (const key of keys) result[key] = properties[key];
  return result;
}

function cells(exporter: (typeof WEBMUNK_EXPORTERS)[number], point: StoredPoint): string[] {
  const columns: readonly Column<unknown>[] = exporter.columns;
  return [...exporter.rows(new ExportPoint(point, 'UTC', undefined))].map((row) => columns.map((c) => tsvCell(writerValue(c.value(row), 'tsv'))).join('\t'));
}

describe('Column.reads', () => {
  for (const exporter of WEBMUNK_EXPORTERS) {
    it(`${exporter.id} writes the same cells from the keys it reads as from the whole point`, () => {
      const keys = keysRead(exporter);
      expect(keys, 'every Webmunk exporter declares what it reads').toBeDefined();
      const own = SAMPLES.filter((p) => exporter.generators.includes(String(p['passive-data-metadata']?.['generator-id'])));
      expect(own.length).toBeGreaterThan(0);
      // every key any sample carries, on each of this exporter's samples (twins, orders' items, matches)
      const everything = Object.assign({}, ...SAMPLES.map((p) => ({ ...p })));
      for (const sample of [...own, ...own.map((p) => ({ ...everything, ...p }))]) {
        const whole = cells(exporter, stored(sample));
        expect(whole.length).toBeGreaterThan(0);
        expect(cells(exporter, stored(sample, projected(sample, keys!)))).toEqual(whole);
      }
    });
  }
});

/** The row as writeTsvRow writes it (the export's path, which copies Utf8Text's bytes). */
function writtenRows(exporter: (typeof WEBMUNK_EXPORTERS)[number], point: StoredPoint): string {
  const columns: readonly Column<unknown>[] = exporter.columns;
  let text = '';
  const sink = {
    write: (t: string) => (text += t),
    writeQuoted: (t: string) => (text += `"${t.replaceAll('"', '""')}"`),
    writeBytes: (b: Buffer) => (text += b.toString('utf8')),
    writeQuotedBytes: (b: Buffer) => (text += `"${b.toString('utf8').replaceAll('"', '""')}"`),
    byte: (code: number) => (text += String.fromCharCode(code)),
  };
  for (const row of exporter.rows(new ExportPoint(point, 'UTC', undefined))) writeTsvRow(sink, columns.length, (i) => writerValue(columns[i].value(row), 'tsv'));
  return text;
}

describe('Column.readsText', () => {
  for (const exporter of WEBMUNK_EXPORTERS) {
    it(`${exporter.id} writes the same rows when the string values of its text keys come as bytes`, () => {
      const keys = keysRead(exporter)!;
      const textKeys = textKeysRead(exporter);
      expect(textKeys.every((key) => keys.includes(key))).toBe(true);
      const own = SAMPLES.filter((p) => exporter.generators.includes(String(p['passive-data-metadata']?.['generator-id'])));
      const everything = Object.assign({}, ...SAMPLES.map((p) => ({ ...p })));
      for (const sample of [...own, ...own.map((p) => ({ ...everything, ...p }))]) {
        const properties = projected(sample, keys);
        const asBytes = { ...properties };
        for (const key of textKeys) if (typeof asBytes[key] === 'string') asBytes[key] = new Utf8Text(Buffer.from(`x${asBytes[key] as string}`).subarray(1));
        const expected = [...exporter.rows(new ExportPoint(stored(sample, properties), 'UTC', undefined))]
          .map((row) => tsvLine((exporter.columns as readonly Column<unknown>[]).map((c) => writerValue(c.value(row), 'tsv')))).join('');
        expect(writtenRows(exporter, stored(sample, asBytes))).toBe(expected);
      }
    });
  }

  it('never hands bytes to what reads a key for rows or to a column that does not take them', () => {
    const byId = new Map(WEBMUNK_EXPORTERS.map((e) => [e.id, e]));
    expect(textKeysRead(byId.get('webmunk-extension-element-show')!)).toEqual(expect.arrayContaining(['element-content*', 'element-content!', 'url*', 'page-title*']));
    expect(textKeysRead(byId.get('webmunk-extension-log-elements')!)).not.toContain('pattern-matches');
    expect(textKeysRead(byId.get('webmunk-amazon-order')! ?? WEBMUNK_EXPORTERS.find((e) => e.rowReads?.includes('items'))!)).not.toContain('items');
  });
});
