/**
 * The Amazon order-history importer on real-format reports (test/fixtures/donations/, written
 * from ecosystem-api.md §3.1's column lists: consumer and Amazon Business spellings, UTF-8 with and
 * without a byte order mark, Windows-1252, UTF-16), checked property by property.
 */
import fs from 'node:fs';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { amazonImporter, hashOrderId } from '../../src/donations/importers/amazon.ts';
import type { DonationPoint, Extraction, ImportContext } from '../../src/donations/importer-contract.ts';

const FIXTURES = new URL('../fixtures/donations/', import.meta.url);
const KEY = new Uint8Array(32).fill(0x5a);
const CONTEXT: ImportContext = { timeZone: 'America/New_York', hashKey: KEY, contentPublicKey: new Uint8Array(32), maxExpandedBytes: 10 * 1024 * 1024 };

const fixture = (name: string) => fs.readFileSync(new URL(name, FIXTURES));
const extract = (name: string, context: ImportContext = CONTEXT) => amazonImporter.extract({ name, bytes: fixture(name) }, context);
const hmac = (orderId: string) => createHmac('sha256', KEY).update(orderId).digest('hex');

/** The values of the 34 personal columns the fixtures fill (webmunk-server.md §12.6's list). */
const PERSONAL_COLUMNS = [
  'Payment Instrument Type', 'Purchase Order Number', 'PO Line Number', 'Ordering Customer Email',
  'Shipping Address Name', 'Shipping Address Street 1', 'Shipping Address Street 2', 'Shipping Address City',
  'Shipping Address State', 'Shipping Address Zip', 'Carrier Name & Tracking Number', 'Buyer Name', 'Group Name',
  'Account Group', 'PO Number', 'Payment Reference ID', 'Payment Date', 'Payment Amount', 'Payment Identifier',
  'Company Compliance', 'Receiving Status', 'Received Quantity', 'Received Date', 'Receiver Name', 'Receiver Email',
  'GL Code', 'Department', 'Cost Center', 'Project Code', 'Approver', 'Order Receiving Status',
  'Order Received Quantity', 'Account User', 'Account User Email',
];

function items(extraction: Extraction): DonationPoint[] {
  return extraction.rows.flatMap((row) => row.points).filter((point) => point.generatorId === 'pdk-external-amazon-item');
}

/** The personal cells of a fixture, read with a CSV parser independent of the importer's reading. */
async function personalValues(name: string, encoding: BufferEncoding = 'utf8'): Promise<string[]> {
  const { parse } = await import('csv-parse/sync');
  const records: Record<string, string>[] = parse(fixture(name).toString(encoding).replace(/^\ufeff/, ''), { columns: true, bom: true });
  return records.flatMap((record) => PERSONAL_COLUMNS.map((column) => record[column] ?? '')).filter((value) => value !== '');
}

function expectNoPersonalValue(extraction: Extraction, values: string[]): void {
  expect(values.length).toBeGreaterThan(10);
  const points = extraction.rows.flatMap((row) => [...row.points, { properties: row.cells }]);
  const json = JSON.stringify(points);
  for (const value of values) {
    // short values (a state, a quantity) could be part of a hash: those must not be a whole value
    if (value.length >= 6) expect(json).not.toContain(value);
    for (const point of points) expect(Object.values(point.properties)).not.toContain(value);
  }
}

describe('Amazon importer: consumer Order History Report (Items)', () => {
  it('turns each dated row into an item point and a purchase, at 12:00 of the order day in TIME_ZONE', async () => {
    const extraction = await extract('amazon-consumer.csv');
    expect(extraction.rows.map((row) => row.key)).toEqual(['1', '2', '4']);
    expect(extraction.notes).toEqual(['Left out: 1 row without an order date.']);
    const [cable, book, kettle] = extraction.rows;
    expect(cable.points).toEqual([
      {
        generatorId: 'pdk-external-amazon-item',
        created: new Date('2023-01-15T17:00:00Z'),
        properties: {
          item: 'USB-C Cable, 6 ft "braided"', category: 'ELECTRONICS', asin: 'B07THHQMHM', unspc_code: '43202222', website: 'Amazon.com',
          condition: 'new', seller: 'Anker Direct', list_price: '$15.99', purchase_price: '$12.99', purchase_subtotal: '$25.98',
          purchase_tax: '$2.08', purchase_total: '$28.06', currency: 'USD', quantity: 2, zipcode: '', carrier_name: 'UPS', status: 'Shipped',
          ordered: '2023-01-15', pdk_hashed_order_id: hmac('112-4455667-8899001'), shipped: '2023-01-16',
        },
      },
      { generatorId: 'pdk-external-engagement-amazon', created: new Date('2023-01-15T17:00:00Z'), properties: { type: 'purchase', duration: 0, outgoing_engagement: 1, pdk_hashed_order_id: hmac('112-4455667-8899001'), asin: 'B07THHQMHM' } },
    ]);
    expect(cable.cells).toEqual({ Date: '2023-01-15', Title: 'USB-C Cable, 6 ft "braided"', Price: '$12.99', Quantity: '2' });
    // M/D/YYYY, a zero-padded shipment day, an ISO release date; an empty list price is left out
    expect(book.points[0].created).toEqual(new Date('2022-12-03T17:00:00Z'));
    expect(book.points[0].properties).toMatchObject({ ordered: '2022-12-03', shipped: '2022-12-05', released: '2019-09-13', carrier_name: 'AMZN_US', purchase_tax: '$0.00' });
    expect(book.points[0].properties).not.toHaveProperty('list_price');
    // an ISO order date (newer exports), a leap day; empty tax and carrier cells
    expect(kettle.points[0]).toMatchObject({ created: new Date('2024-02-29T17:00:00Z'), properties: { ordered: '2024-02-29', carrier_name: '', status: 'Shipment planned' } });
    expect(kettle.points[0].properties).not.toHaveProperty('purchase_tax');
    expect(kettle.points[0].properties).not.toHaveProperty('unspc_code');
    expect(kettle.points[0].properties).not.toHaveProperty('shipped');
  });

  it('keeps no value of the personal columns in any point or review cell', async () => {
    expectNoPersonalValue(await extract('amazon-consumer.csv'), await personalValues('amazon-consumer.csv'));
  });

  it('sets the noon in the zone of TIME_ZONE, summer time included', async () => {
    const berlin = await extract('amazon-consumer.csv', { ...CONTEXT, timeZone: 'Europe/Berlin' });
    expect(berlin.rows.map((row) => row.points[0].created.toISOString())).toEqual(['2023-01-15T11:00:00.000Z', '2022-12-03T11:00:00.000Z', '2024-02-29T11:00:00.000Z']);
    const header = fixture('amazon-required-columns-only.csv').toString().split('\r\n')[0];
    const july = (timeZone: string) => amazonImporter.extract({ name: 'j.csv', bytes: Buffer.from(`${header}\r\n7/4/21,1,Fireworks,,1,$1,,,USD\r\n`) }, { ...CONTEXT, timeZone });
    // New York on summer time (UTC-4); Lord Howe Island in its winter, UTC+10:30 (a half-hour offset)
    expect((await july('America/New_York')).rows[0].points[0].created.toISOString()).toBe('2021-07-04T16:00:00.000Z');
    expect((await july('Australia/Lord_Howe')).rows[0].points[0].created.toISOString()).toBe('2021-07-04T01:30:00.000Z');
  });

  it('reads a report with only the required columns, and two-digit years as arrow did (69-99: 19xx, 00-68: 20xx)', async () => {
    const extraction = await extract('amazon-required-columns-only.csv');
    expect(items(extraction).map((point) => point.properties)).toEqual([
      { item: 'Paperback from 1999', purchase_subtotal: '$9.99', currency: 'USD', quantity: 1, zipcode: '', carrier_name: '', status: '', ordered: '1999-03-07', pdk_hashed_order_id: hmac('002-1234567-7654321') },
      { item: 'Halloween 2068', purchase_subtotal: '$3.00', currency: 'USD', quantity: 3, zipcode: '', carrier_name: '', status: '', ordered: '2068-10-31', pdk_hashed_order_id: hmac('003-1234567-7654321') },
    ]);
    expect(extraction.notes).toEqual([]);
  });
});

describe('Amazon importer: Amazon Business report', () => {
  it('reads the business spellings of the columns (first present wins)', async () => {
    const extraction = await extract('amazon-business.csv');
    const [paper, stapler] = items(extraction);
    expect(paper).toEqual({
      generatorId: 'pdk-external-amazon-item',
      created: new Date('2024-03-01T17:00:00Z'),
      properties: {
        item: 'Printer paper, 10 reams', category: 'Paper Materials and Products', asin: 'B000ZZZ111', unspc_code: '14111507', condition: 'New',
        seller: 'PaperCo Store', seller_credentials: 'Small Business', list_price: '49.99', purchase_price: '42.99', purchase_subtotal: '171.96',
        purchase_tax: '13.50', purchase_total: '185.46', tax_exemption_applied: 'No', tax_exemption_type: 'None', exemption_opt_out: 'No',
        currency: 'USD', quantity: 4, zipcode: '45402', carrier_name: 'FedEx', status: 'Closed', ordered: '2024-03-01',
        pdk_hashed_order_id: hmac('114-7777777-1111111'), shipped: '2024-03-02',
      },
    });
    // a bare tracking number in the carrier column is not a carrier's name; an empty Seller ZipCode is left out
    expect(stapler.properties).toMatchObject({ carrier_name: '', asin: 'B000ZZZ222', pdk_hashed_order_id: paper.properties.pdk_hashed_order_id });
    expect(stapler.properties).not.toHaveProperty('zipcode');
    expect(stapler.properties).not.toHaveProperty('list_price');
    expect(extraction.rows.map((row) => row.cells)).toEqual([
      { Date: '2024-03-01', Title: 'Printer paper, 10 reams', Price: '42.99 USD', Quantity: '4' },
      { Date: '2024-03-01', Title: 'Stapler', Price: '12.50 USD', Quantity: '1' },
    ]);
  });

  it('keeps no value of the 34 personal columns (a byte order mark before the header does not hide one)', async () => {
    expectNoPersonalValue(await extract('amazon-business.csv'), await personalValues('amazon-business.csv'));
  });
});

describe('Amazon importer: encodings', () => {
  it('reads Windows-1252 (Excel on Windows), the euro sign and dashes of 0x80-0x9F included', async () => {
    const [row] = (await extract('amazon-windows-1252.csv')).rows;
    expect(row.points[0].properties).toMatchObject({ item: 'Café Crème – Größe M', seller: 'Épicerie Fine', purchase_price: '€4.50', currency: 'EUR' });
    expect(JSON.stringify(row)).not.toContain('Zoë Müller');
  });

  it('reads UTF-16 with a byte order mark, and UTF-16 big-endian without one', async () => {
    const titles = (extraction: Extraction) => extraction.rows.map((row) => row.cells.Title);
    expect(titles(await extract('amazon-utf-16.csv'))).toEqual(['日本語の本 — 第2版', 'Crème brûlée torch']);
    const text = fixture('amazon-utf-16.csv').subarray(2).swap16();
    const bigEndian = await amazonImporter.extract({ name: 'be.csv', bytes: text }, CONTEXT);
    expect(titles(bigEndian)).toEqual(['日本語の本 — 第2版', 'Crème brûlée torch']);
    expect(bigEndian.rows[0].points[0].properties).toMatchObject({ seller: '書店', purchase_price: '¥2,420', ordered: '2024-07-08' });
  });
});

describe('Amazon importer: order ids', () => {
  it('stores HMAC-SHA-256 of the order id under the server key: the same for the same id, another under another key, never the id', async () => {
    const other = { ...CONTEXT, hashKey: new Uint8Array(32).fill(0x01) };
    const [first, again, otherKey] = await Promise.all([extract('amazon-consumer.csv'), extract('amazon-consumer.csv'), extract('amazon-consumer.csv', other)]);
    const hashes = (extraction: Extraction) => items(extraction).map((point) => point.properties.pdk_hashed_order_id);
    expect(hashes(first)).toEqual(hashes(again));
    expect(hashes(first)[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes(otherKey)[0]).not.toBe(hashes(first)[0]);
    expect(hashes(otherKey)[0]).toBe(hashOrderId('112-4455667-8899001', other.hashKey));
    for (const id of ['112-4455667-8899001', '113-0000001-2345678', '111-2223334-4455566']) expect(JSON.stringify(first)).not.toContain(id);
  });
});

describe('Amazon importer: rows left out', () => {
  const header = fixture('amazon-required-columns-only.csv').toString().split('\r\n')[0];
  const report = (...lines: string[]) => amazonImporter.extract({ name: 'r.csv', bytes: Buffer.from([header, ...lines, ''].join('\r\n')) }, CONTEXT);

  it('says which rows it left out: no order date, a date it cannot read, no order id; a "No data found" row beside orders', async () => {
    const extraction = await report(
      '1/2/23,A-1,Kept,,1,$1,,,USD',
      ',A-2,No date,,1,$1,,,USD',
      '2/30/23,A-3,February 30th,,1,$1,,,USD',
      'yesterday,A-4,Words,,1,$1,,,USD',
      '1/3/23,,No order id,,1,$1,,,USD',
      'No data found for this time period,,,,,,,,',
    );
    expect(extraction.rows.map((row) => row.cells.Title)).toEqual(['Kept']);
    expect(extraction.notes).toEqual([
      'Left out: 1 row without an order date.',
      'Left out: 2 rows with an order date we could not read.',
      'Left out: 1 row without an order number.',
    ]);
  });

  it('keeps a title-less row (the export writes its default title) and reads a quantity that is not a whole number as text', async () => {
    const [row] = (await report('1/2/23,A-1,,,1.5,$1,,,USD')).rows;
    expect(row.points[0].properties).not.toHaveProperty('item');
    expect(row.points[0].properties.quantity).toBe('1.5');
  });
});
