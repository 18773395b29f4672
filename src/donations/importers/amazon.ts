/**
 * Amazon order history (ecosystem-api.md §3.1, the original's importers/amazon.py): the Items CSV
 * of an "Order History Report", in the consumer or the Amazon Business spelling of its columns.
 *
 * Reads: Order Date, Order ID and the item's columns listed in amazon-columns.ts (first present
 * wins); nothing else, so names, addresses, e-mails, payment and purchase-order fields never leave
 * the file. Makes, per row: a `pdk-external-amazon-item` point (the item's properties, the day as
 * `ordered`, the order id as `pdk_hashed_order_id` = HMAC-SHA-256 under the server's key, not the
 * original's SHA-512 with a public salt) and a `pdk-external-engagement-amazon` point (a purchase, with
 * the hashed order id and the ASIN so that two purchases on one day stay two points), both at 12:00
 * on the order day in TIME_ZONE. Skips, and says so in a note: rows without an
 * order date or order id, Amazon's "No data found for this time period" row, dates it cannot read.
 * Refuses: files over maxExpandedBytes, anything that is not CSV text, reports missing a required
 * column (naming them), reports without an order.
 */
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { DonationFileError, type DonationFile, type DonationImporter, type DonationPoint, type Extraction, type ImportContext, type ReviewRow } from '../importer-contract.ts';
import { decodeText } from '../text-encoding.ts';
import { isoDay, noonIn, parseReportDay } from './amazon-dates.ts';
import {
  CARRIER_COLUMN, NO_DATA_MARKER, QUANTITY_COLUMNS, RELEASE_DATE_COLUMN, REQUIRED_COLUMNS, SHIPMENT_DATE_COLUMN, STATUS_COLUMN, TEXT_PROPERTIES,
  ZIPCODE_COLUMNS,
} from './amazon-columns.ts';
import { refuseBinary, refuseControlCharacters } from './csv-content.ts';

const AGAIN = 'Please download the report again from Amazon (Order History Reports, report type "Items") and upload that file.';

/** Column name → its first position in the header row. */
type Header = Map<string, number>;

interface Skipped {
  noDate: number;
  noDataMarker: number;
  unreadableDate: number;
  noOrderId: number;
}

export const amazonImporter: DonationImporter = {
  source: 'amazon',
  name: 'Amazon order history',
  fileKind: 'csv',
  reviewColumns: ['Date', 'Title', 'Price', 'Quantity'],
  extract: extractAmazon,
};

async function extractAmazon(file: DonationFile, context: ImportContext): Promise<Extraction> {
  if (file.bytes.length > context.maxExpandedBytes) {
    throw new DonationFileError(
      `This file is larger than the ${megabytes(context.maxExpandedBytes)} we accept. Request a report for a shorter period from Amazon and upload that.`,
      `CSV of ${file.bytes.length} bytes, over the limit of ${context.maxExpandedBytes} bytes`,
    );
  }
  refuseBinary(file.bytes);
  const { text, encoding } = decodeText(file.bytes);
  refuseControlCharacters(text);
  const rows: ReviewRow[] = [];
  const skipped: Skipped = { noDate: 0, noDataMarker: 0, unreadableDate: 0, noOrderId: 0 };
  let header: Header | undefined;
  let columns = 0;
  let dataRows = 0;
  let lastIsShort = false;
  for await (const record of csvRecords(text, encoding)) {
    if (!header) {
      header = readHeader(record);
      columns = record.length;
      continue;
    }
    dataRows += 1;
    lastIsShort = record.length < columns;
    const row = itemRow(record, header, dataRows, context, skipped);
    if (row) rows.push(row);
  }
  if (!header) throw new DonationFileError(`This file is empty. ${AGAIN}`, 'empty file (no header row)');
  // Amazon writes every cell of every row: a short last row is a file cut off in the middle
  if (lastIsShort) throw new DonationFileError(`This file seems to be cut short (its last row is incomplete). ${AGAIN}`, `truncated: data row ${dataRows} has fewer cells than the header's ${columns}`);
  if (rows.length === 0) throw noOrders(dataRows, skipped);
  return { rows, notes: notes(skipped) };
}

/** The records of the CSV text, refused with the line where it stops being CSV. */
async function* csvRecords(text: string, encoding: string): AsyncGenerator<string[]> {
  // relaxed as pandas was: rows shorter or longer than the header, stray quotes inside a value
  const parser = Readable.from(textChunks(text)).pipe(parse({ relax_column_count: true, relax_quotes: true, skip_empty_lines: true }));
  try {
    for await (const record of parser) yield record as string[];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines;
    throw new DonationFileError(
      `This file could not be read as a table${line ? ` (it breaks off at line ${line})` : ''}: it may be damaged or cut short. ${AGAIN}`,
      `CSV parse error (${encoding})${line ? ` at line ${line}` : ''}: ${error.code}: ${error.message}`,
    );
  } finally {
    parser.destroy();
  }
}

/** The text in pieces, so the parser hands records over (and the event loop turns) as it goes. */
function* textChunks(text: string): Generator<string> {
  const size = 1 << 16;
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

function readHeader(record: string[]): Header {
  const header: Header = new Map();
  record.forEach((name, i) => {
    const trimmed = name.replace(/^\ufeff/, '').trim();
    if (!header.has(trimmed)) header.set(trimmed, i);
  });
  const missing = REQUIRED_COLUMNS.filter((column) => !header.has(column));
  if (missing.length === REQUIRED_COLUMNS.length || (!header.has('Order Date') && !header.has('Order ID'))) {
    throw new DonationFileError(
      `This file is not an Amazon order history report. ${AGAIN}`,
      `no Amazon report header: none of ${REQUIRED_COLUMNS.join(', ')} among the first row's ${record.length} columns`,
    );
  }
  if (missing.length > 0) {
    throw new DonationFileError(
      `This report lacks columns we need (${missing.join(', ')}). It may be another type of report: ${AGAIN}`,
      `missing required column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
    );
  }
  return header;
}

/** The cell of the first of `columns` present in the header, trimmed; '' for an empty cell, undefined when no such column. */
function cell(record: string[], header: Header, columns: readonly string[]): string | undefined {
  for (const column of columns) {
    const index = header.get(column);
    if (index !== undefined) return (record[index] ?? '').trim();
  }
  return undefined;
}

function itemRow(record: string[], header: Header, number: number, context: ImportContext, skipped: Skipped): ReviewRow | undefined {
  const orderDate = cell(record, header, ['Order Date']) ?? '';
  if (orderDate === '') return void (skipped.noDate += 1);
  if (orderDate === NO_DATA_MARKER) return void (skipped.noDataMarker += 1);
  const day = parseReportDay(orderDate, context.timeZone);
  if (!day) return void (skipped.unreadableDate += 1);
  const orderId = cell(record, header, ['Order ID']) ?? '';
  if (orderId === '') return void (skipped.noOrderId += 1);
  const created = noonIn(day, context.timeZone);
  const item = itemProperties(record, header);
  item.ordered = isoDay(day);
  item.pdk_hashed_order_id = hashOrderId(orderId, context.hashKey);
  const shipped = cell(record, header, [SHIPMENT_DATE_COLUMN]);
  const shippedDay = shipped ? parseReportDay(shipped, context.timeZone) : undefined;
  if (shippedDay) item.shipped = isoDay(shippedDay);
  const released = cell(record, header, [RELEASE_DATE_COLUMN]);
  const releasedDay = released ? parseReportDay(released, context.timeZone) : undefined;
  if (releasedDay) item.released = isoDay(releasedDay);
  const points: DonationPoint[] = [
    { generatorId: 'pdk-external-amazon-item', created, properties: item },
    // the original's create_engagement_event(outgoing_engagement=1.0, engagement_type='purchase'), duration 0, with
    // the order and product: two purchases on one day are two points (stored once each however often donated)
    { generatorId: 'pdk-external-engagement-amazon', created, properties: purchase(item) },
  ];
  return {
    key: String(number),
    cells: { Date: isoDay(day), Title: text(item.item), Price: price(item), Quantity: text(item.quantity) },
    points,
  };
}

/** The item's properties from its columns; empty cells are left out, as the original dropped pandas' NaN. */
function itemProperties(record: string[], header: Header): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const [property, columns] of TEXT_PROPERTIES) {
    const value = cell(record, header, columns);
    if (value) item[property] = value;
  }
  const quantity = cell(record, header, QUANTITY_COLUMNS);
  if (quantity) item.quantity = /^\d+$/.test(quantity) ? Number(quantity) : quantity;
  // the original's defaults when the column is absent: zipcode '', carrier_name '' (also for an empty cell), status ''
  const zipcode = cell(record, header, ZIPCODE_COLUMNS);
  if (zipcode !== '') item.zipcode = zipcode ?? '';
  item.carrier_name = carrierName(cell(record, header, [CARRIER_COLUMN]));
  const status = cell(record, header, [STATUS_COLUMN]);
  if (status !== '') item.status = status ?? '';
  return item;
}

/** The purchase of an item: what the original stored, and what tells it apart from another purchase that day. */
function purchase(item: Record<string, unknown>): Record<string, unknown> {
  const properties: Record<string, unknown> = { type: 'purchase', duration: 0, outgoing_engagement: 1.0, pdk_hashed_order_id: item.pdk_hashed_order_id };
  if (item.asin !== undefined) properties.asin = item.asin;
  return properties;
}

/**
 * The carrier's name: the text before the first `(` ("UPS(1Z999…)" → "UPS"), as the original. A
 * value with a digit in that part is taken for a bare tracking number and left out.
 */
function carrierName(value: string | undefined): string {
  const name = (value ?? '').split('(')[0].trim();
  return /\d/.test(name) ? '' : name;
}

/** HMAC-SHA-256 (hex) of the order id under the server's key: not reversible by trying every id. */
export function hashOrderId(orderId: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(orderId, 'utf8').digest('hex');
}

function text(value: unknown): string {
  return value === undefined ? '' : String(value);
}

function price(item: Record<string, unknown>): string {
  const value = text(item.purchase_price ?? item.purchase_total ?? item.purchase_subtotal);
  // business reports write plain numbers, consumer reports "$12.99"
  return value !== '' && /^[\d.,-]+$/.test(value) && item.currency ? `${value} ${text(item.currency)}` : value;
}

function megabytes(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MB`;
}

function noOrders(dataRows: number, skipped: Skipped): DonationFileError {
  if (dataRows === 0) return new DonationFileError(`This report has no orders in it (only its column names). ${AGAIN}`, 'header row only, no data rows');
  if (skipped.noDataMarker > 0 && skipped.noDataMarker + skipped.noDate === dataRows) {
    return new DonationFileError(
      'Amazon found no orders for the period of this report. Request a report for a longer period (for example the last 12 months) and upload that.',
      `Amazon's "${NO_DATA_MARKER}" report`,
    );
  }
  return new DonationFileError(
    `None of the rows of this report has an order date and order number we can read. ${AGAIN}`,
    `${dataRows} data rows, none imported: ${describeSkipped(skipped).join('; ')}`,
  );
}

function describeSkipped(skipped: Skipped): string[] {
  const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
  const described: string[] = [];
  if (skipped.noDate > 0) described.push(`${rows(skipped.noDate)} without an order date`);
  if (skipped.unreadableDate > 0) described.push(`${rows(skipped.unreadableDate)} with an order date we could not read`);
  if (skipped.noOrderId > 0) described.push(`${rows(skipped.noOrderId)} without an order number`);
  return described;
}

function notes(skipped: Skipped): string[] {
  // Amazon's "no data" marker row says nothing about the rows beside it
  return describeSkipped(skipped).map((what) => `Left out: ${what}.`);
}
