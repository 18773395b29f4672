/**
 * The 41-column pdk-external-amazon-item export (ecosystem-api.md §3.2), cell by cell, from points
 * stored by real processing: the importer reads the consumer and business fixtures, the points
 * are uploaded as the donation flow will store them (a bundle for the participant's source, with
 * the original's passive-data-metadata), processed, exported and read back from the archive.
 */
import fs from 'node:fs';
import { createHmac } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { amazonImporter } from '../../src/donations/importers/amazon.ts';
import type { ImportContext } from '../../src/donations/importer-contract.ts';
import { NIGHTLY_TYPES, queueNightlyDay } from '../../src/exports/nightly.ts';
import { claimNextReportJob, getReportJob } from '../../src/exports/report-jobs.repository.ts';
import { runReportJob } from '../../src/exports/run-report-job.ts';
import { createLogger } from '../../src/log.ts';
import { dayIn } from '../helpers/days.ts';
import { storedLikeTheFlow } from '../helpers/donations.ts';
import { useTestServer, type TestServer } from '../helpers/server.ts';
import { exportArchive, readZip, uploadPoints, type ZipEntry } from './support.ts';

const NY = 'America/New_York';
const KEY = new Uint8Array(32).fill(9);
const CONTEXT: ImportContext = { timeZone: NY, hashKey: KEY, contentPublicKey: new Uint8Array(32), maxExpandedBytes: 10 * 1024 * 1024 };
const hmac = (orderId: string) => createHmac('sha256', KEY).update(orderId).digest('hex');

const HEADER = [
  'Source', 'Created Timestamp', 'Created Date', 'Recorded Timestamp', 'Recorded Date', 'Order Date', 'Order ID', 'Title', 'Category',
  'ASIN/ISBN', 'UNSPSC Code', 'Website', 'Release Date', 'Condition', 'Seller', 'Seller Credentials', 'List Price Per Unit',
  'Purchase Price Per Unit', 'Quantity', 'Payment Instrument Type', 'Purchase Order Number', 'PO Line Number', 'Ordering Customer Email',
  'Shipment Date', 'Shipping Address Name', 'Shipping Address Street 1', 'Shipping Address Street 2', 'Shipping Address City',
  'Shipping Address State', 'Shipping Address Zip', 'Order Status', 'Carrier Name & Tracking Number', 'Item Subtotal', 'Item Subtotal Tax',
  'Item Total', 'Tax Exemption Applied', 'Tax Exemption Type', 'Exemption Opt-Out', 'Buyer Name', 'Currency', 'Group Name',
];

async function donate(server: TestServer, fixture: string, source: string): Promise<void> {
  const bytes = fs.readFileSync(new URL(`../fixtures/donations/${fixture}`, import.meta.url));
  const { rows } = await amazonImporter.extract({ name: fixture, bytes }, CONTEXT);
  await uploadPoints(server, rows.flatMap((row) => row.points.map((point) => storedLikeTheFlow(point, source))));
}

/** The TSV's rows, read by a CSV parser as analysts read it (tab, `"` quotes doubled, CRLF). */
function tsv(entry: ZipEntry | undefined): string[][] {
  expect(entry).toBeDefined();
  expect(entry!.data.toString('utf8')).toMatch(/\r\n$/);
  return parse(entry!.data, { delimiter: '\t', record_delimiter: '\r\n', relax_column_count: false });
}

async function recordedMicros(server: TestServer, source: string): Promise<number> {
  const { rows } = await server.db.pool.query(`SELECT DISTINCT (extract(epoch FROM recorded) * 1000000)::int8 AS us FROM data_points WHERE source = $1`, [source]);
  expect(rows).toHaveLength(1);
  return Number(rows[0].us);
}

/** Source, the two times and their ISO forms in New York: created at 12:00 on `day`. */
function times(source: string, day: string, offset: string, recorded: number): (string | ((cell: string) => void))[] {
  const created = Date.parse(`${day}T12:00:00${offset}`) / 1000;
  const recordedDate = (cell: string) => {
    expect(cell).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?-0[45]:00$/);
    expect(Math.floor(Date.parse(cell) / 1000)).toBe(Math.floor(recorded / 1e6));
  };
  return [source, String(created), `${day}T12:00:00${offset}`, String(Math.floor(recorded / 1e6)), recordedDate];
}

function expectRows(actual: string[][], expected: (string | ((cell: string) => void))[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, r) => {
    expect(row, `row ${r} has 41 cells`).toHaveLength(41);
    expected[r].forEach((cell, c) => {
      if (typeof cell === 'function') cell(row[c]);
      else expect(row[c], `row ${r}, ${HEADER[c]}`).toBe(cell);
    });
  });
}

const EMPTY4 = ['', '', '', ''];
const EMPTY5 = ['', '', '', '', ''];

describe('pdk-external-amazon-item export (server TIME_ZONE America/New_York)', () => {
  const server = useTestServer({ TIME_ZONE: NY });

  it('writes one file per source, 41 columns, oldest order first, personal columns empty', async () => {
    await donate(server, 'amazon-consumer.csv', '40172630');
    await donate(server, 'amazon-business.csv', 'Lab Buyer 7');
    const archive = await exportArchive(server, { types: ['pdk-external-amazon-item'], sources: ['40172630', 'Lab Buyer 7'] });
    expect([...archive.keys()].sort()).toEqual(['README.txt', 'pdk-external-amazon-item/40172630.txt', 'pdk-external-amazon-item/lab-buyer-7.txt']);

    const consumer = tsv(archive.get('pdk-external-amazon-item/40172630.txt'));
    expect(consumer[0]).toEqual(HEADER);
    const recorded = await recordedMicros(server, '40172630');
    expectRows(consumer.slice(1), [
      [...times('40172630', '2022-12-03', '-05:00', recorded), '2022-12-03', hmac('113-0000001-2345678'), 'The Pragmatic Programmer', 'ABIS_BOOK',
        '0135957052', '55101500', 'Amazon.com', '2019-09-13', 'new', 'Amazon.com', '', '', '$39.99', '1', ...EMPTY4, '2022-12-05', ...EMPTY5,
        '', 'Shipped', 'AMZN_US', '$39.99', '$0.00', '$39.99', '', '', '', '', 'USD', ''],
      [...times('40172630', '2023-01-15', '-05:00', recorded), '2023-01-15', hmac('112-4455667-8899001'), 'USB-C Cable, 6 ft "braided"', 'ELECTRONICS',
        'B07THHQMHM', '43202222', 'Amazon.com', '', 'new', 'Anker Direct', '', '$15.99', '$12.99', '2', ...EMPTY4, '2023-01-16', ...EMPTY5,
        '', 'Shipped', 'UPS', '$25.98', '$2.08', '$28.06', '', '', '', '', 'USD', ''],
      [...times('40172630', '2024-02-29', '-05:00', recorded), '2024-02-29', hmac('111-2223334-4455566'), 'Leap-day kettle', 'KITCHEN',
        'B0C1234567', '', 'Amazon.com', '', 'used - like new', 'Kettle World', '', '', '$20.00', '1', ...EMPTY4, '', ...EMPTY5,
        '', 'Shipment planned', '', '$20.00', '', '$21.60', '', '', '', '', 'USD', ''],
    ]);
    // minimal quoting, as Python's csv: only the title with quotes in it
    expect(archive.get('pdk-external-amazon-item/40172630.txt')!.data.toString()).toContain('\t"USB-C Cable, 6 ft ""braided"""\t');

    const business = tsv(archive.get('pdk-external-amazon-item/lab-buyer-7.txt'));
    const recordedB = await recordedMicros(server, 'Lab Buyer 7');
    const order = hmac('114-7777777-1111111');
    expectRows(business.slice(1), [
      [...times('Lab Buyer 7', '2024-03-01', '-05:00', recordedB), '2024-03-01', order, 'Printer paper, 10 reams', 'Paper Materials and Products',
        'B000ZZZ111', '14111507', '', '', 'New', 'PaperCo Store', 'Small Business', '49.99', '42.99', '4', ...EMPTY4, '2024-03-02', ...EMPTY5,
        '45402', 'Closed', 'FedEx', '171.96', '13.50', '185.46', 'No', 'None', 'No', '', 'USD', ''],
      [...times('Lab Buyer 7', '2024-03-01', '-05:00', recordedB), '2024-03-01', order, 'Stapler', 'Office Equipment',
        'B000ZZZ222', '44121615', '', '', 'New', 'Amazon.com', '', '', '12.50', '1', ...EMPTY4, '', ...EMPTY5,
        '', 'Closed', '', '12.50', '', '12.50', 'No', 'None', '', '', 'USD', ''],
    ]);
  });

  it('writes the default title for an item without one', async () => {
    const header = 'Order Date,Order ID,Title,Seller Credentials,Item Subtotal,Tax Exemption Applied,Tax Exemption Type,Currency';
    const { rows } = await amazonImporter.extract({ name: 'x.csv', bytes: Buffer.from(`${header}\r\n6/1/24,X-1,,,$5.00,,,USD\r\n`) }, CONTEXT);
    await uploadPoints(server, rows.flatMap((row) => row.points.map((point) => storedLikeTheFlow(point, 'untitled'))));
    const archive = await exportArchive(server, { types: ['pdk-external-amazon-item'], sources: ['untitled'] });
    const [, row] = tsv(archive.get('pdk-external-amazon-item/untitled.txt'));
    // summer time: 12:00 EDT
    expect(row.slice(1, 3)).toEqual([String(Date.parse('2024-06-01T16:00:00Z') / 1000), '2024-06-01T12:00:00-04:00']);
    expect(row[7]).toBe('(Unknown Item - ASIN Not Available)');
    expect(row[18]).toBe('');
  });

  it('comes first in the nightly export, as in the original', async () => {
    expect(NIGHTLY_TYPES[0]).toBe('pdk-external-amazon-item');
    const pool = server.db.pool;
    const today = dayIn(NY);
    const jobs = await queueNightlyDay(pool, server.config, today);
    const job = jobs.find((j) => j.sources.includes('40172630'))!;
    expect(job.types[0]).toBe('pdk-external-amazon-item');
    const claimed = (await claimNextReportJob(pool, [job.id]))!;
    expect(await runReportJob({ pool, config: server.config, log: createLogger('silent') }, claimed)).toBe('done');
    const entries = await readZip((await getReportJob(pool, job.id))!.storedAt[0]);
    const file = entries.find((e) => e.name === 'pdk-external-amazon-item/40172630.txt');
    expect(tsv(file).slice(1).map((row) => row[7])).toEqual(['The Pragmatic Programmer', 'USB-C Cable, 6 ft "braided"', 'Leap-day kettle']);
  });
});
