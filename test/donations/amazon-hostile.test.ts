/**
 * Files the Amazon importer must refuse with a participant-readable message and a staff reason
 * (issue 20 §3): other formats renamed .csv, empty and header-only reports, missing columns, a
 * huge file, a truncated one; and arbitrary bytes never make it throw anything else.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { amazonImporter } from '../../src/donations/importers/amazon.ts';
import { DonationFileError, type ImportContext } from '../../src/donations/importer-contract.ts';
import { zipOf } from './zip-files.ts';

const CONTEXT: ImportContext = { timeZone: 'America/New_York', hashKey: new Uint8Array(32).fill(3), contentPublicKey: new Uint8Array(32), maxExpandedBytes: 100 * 1024 * 1024 };
const fixture = (name: string) => fs.readFileSync(new URL(`../fixtures/donations/${name}`, import.meta.url));
const CONSUMER = fixture('amazon-consumer.csv');

async function refusal(bytes: Buffer, context: ImportContext = CONTEXT): Promise<DonationFileError> {
  const error = await amazonImporter.extract({ name: 'order-history.csv', bytes }, context).then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(DonationFileError);
  const refused = error as DonationFileError;
  expect(refused.participantMessage.length).toBeGreaterThan(20);
  expect(refused.staffReason.length).toBeGreaterThan(5);
  return refused;
}

/** A 1x1 PNG (signature, IHDR, IDAT, IEND). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('Amazon importer refuses what is not an Items report', () => {
  it('a ZIP renamed .csv (even one holding the report), a PNG, a gzip, by their content', async () => {
    expect((await refusal(await zipOf([{ name: 'Retail.OrderHistory.1.csv', data: CONSUMER }]))).staffReason).toBe('not CSV: the content is a ZIP archive (or an .xlsx spreadsheet)');
    const png = await refusal(PNG);
    expect(png.staffReason).toBe('not CSV: the content is a PNG image');
    expect(png.participantMessage).toMatch(/not a CSV report/);
    expect((await refusal(zlib.gzipSync(CONSUMER))).staffReason).toBe('not CSV: the content is a gzip file');
  });

  it('binary content of no known format, by its control characters', async () => {
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256));
    expect((await refusal(binary)).staffReason).toMatch(/^not CSV: control character U\+00/);
  });

  it('an empty file, a header-only report, and Amazon\'s "No data found" report', async () => {
    expect((await refusal(Buffer.alloc(0))).staffReason).toBe('empty file (no header row)');
    const headerOnly = await refusal(fixture('amazon-header-only.csv'));
    expect(headerOnly.staffReason).toBe('header row only, no data rows');
    expect(headerOnly.participantMessage).toMatch(/no orders/);
    const noData = await refusal(fixture('amazon-no-data.csv'));
    expect(noData.participantMessage).toMatch(/^Amazon found no orders for the period of this report/);
  });

  it('a report missing required columns, naming them; another CSV altogether', async () => {
    const lines = CONSUMER.toString().split('\r\n');
    const columns = lines[0].split(',');
    const drop = (names: string[]) => {
      const keep = columns.map((name, i) => (names.includes(name) ? -1 : i)).filter((i) => i >= 0);
      // the fixture's cells hold no commas in these columns' rows except quoted titles: rebuild from the header only
      return Buffer.from(`${keep.map((i) => columns[i]).join(',')}\r\n`);
    };
    const missing = await refusal(drop(['Currency', 'Item Subtotal']));
    expect(missing.staffReason).toBe('missing required columns: Item Subtotal, Currency');
    expect(missing.participantMessage).toMatch(/lacks columns we need \(Item Subtotal, Currency\)/);
    expect((await refusal(drop(['Order ID']))).staffReason).toBe('missing required column: Order ID');
    const other = await refusal(Buffer.from('name,email\r\nJane,jane@example.org\r\n'));
    expect(other.participantMessage).toMatch(/^This file is not an Amazon order history report/);
  });

  it('a file over the size limit, before reading it (200 MB against a 100 MB limit)', async () => {
    const row = Buffer.from(CONSUMER.toString().split('\r\n')[1] + '\r\n');
    const huge = Buffer.allocUnsafe(200 * 1024 * 1024);
    CONSUMER.copy(huge);
    huge.fill(row, CONSUMER.length);
    const refused = await refusal(huge);
    expect(refused.staffReason).toBe(`CSV of ${huge.length} bytes, over the limit of ${CONTEXT.maxExpandedBytes} bytes`);
    expect(refused.participantMessage).toMatch(/larger than the 100 MB we accept/);
  });

  it('a file cut short: inside a quoted value, or in the middle of its last row', async () => {
    const text = CONSUMER.toString();
    const inQuotes = await refusal(Buffer.from(text.slice(0, text.indexOf('"braided"') - 3)));
    expect(inQuotes.staffReason).toMatch(/^CSV parse error \(utf-8\) at line \d+: CSV_QUOTE_NOT_CLOSED/);
    const lastRow = text.lastIndexOf('\r\n', text.length - 3);
    const midRow = await refusal(Buffer.from(text.slice(0, lastRow + 40)));
    expect(midRow.staffReason).toBe('truncated: data row 4 has fewer cells than the header\'s 36');
  });

  it('never throws anything but a refusal on arbitrary bytes or a report cut anywhere', async () => {
    let seed = 20;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const inputs: Buffer[] = [];
    for (let i = 0; i < 40; i += 1) inputs.push(Buffer.from(Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256))));
    for (let i = 0; i < 40; i += 1) inputs.push(CONSUMER.subarray(0, Math.floor(random() * CONSUMER.length)));
    for (let i = 0; i < 40; i += 1) {
      const flipped = Buffer.from(CONSUMER);
      for (let j = 0; j < 5; j += 1) flipped[Math.floor(random() * flipped.length)] = Math.floor(random() * 256);
      inputs.push(flipped);
    }
    let refused = 0;
    for (const bytes of inputs) {
      try {
        const extraction = await amazonImporter.extract({ name: 'x.csv', bytes }, CONTEXT);
        expect(extraction.rows.length).toBeGreaterThan(0);
      } catch (error) {
        expect(error).toBeInstanceOf(DonationFileError);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(40);
  });
});
