/**
 * pdk-external-amazon-item, "Amazon Items" (ecosystem-api.md §3.2, the original's
 * generators/pdk_external_amazon_item.py): the items of participants' donated Amazon order
 * histories, one file per source, oldest order first, in the 41 columns of Amazon's own report
 * (the personal ones always empty). The original failed the whole export on an item without
 * `asin`, `website`, `condition`, `seller`, `purchase_price`, `quantity`, `purchase_tax` or
 * `currency` (an empty cell in the report); here such a cell is empty.
 */
import { ZonedTime, onePerPoint, type Exporter } from '../exporter.ts';
import { column, property, SOURCE } from './common.ts';

const always = (header: string) => column(header, 'string', 'always empty (a personal column of the report, never imported)', () => '', []);
const seconds = (micros: number) => Math.floor(micros / 1e6);

export const amazonItemExporter: Exporter = {
  id: 'pdk-external-amazon-item',
  label: 'Amazon Items',
  generators: ['pdk-external-amazon-item'],
  layout: 'per-source',
  rowsAre: 'one row per ordered item of a donated Amazon order history; one file per source',
  order: 'created-ascending',
  rows: onePerPoint,
  columns: [
    SOURCE,
    column('Created Timestamp', 'int', 'the order day at 12:00 in TIME_ZONE, as Unix seconds', ({ point }) => seconds(point.stored.createdMicros), []),
    // imported points carry no time zone of their own: point.zone is the server's TIME_ZONE
    column('Created Date', 'time', 'the same in TIME_ZONE, ISO', ({ point }) => new ZonedTime(point.stored.createdMicros, point.zone), []),
    column('Recorded Timestamp', 'int', 'when the server stored it, as Unix seconds', ({ point }) => seconds(point.stored.recordedMicros), []),
    column('Recorded Date', 'time', 'the same in TIME_ZONE, ISO', ({ point }) => new ZonedTime(point.stored.recordedMicros, point.zone), []),
    property('Order Date', 'string', 'ordered', '`ordered` (ISO day)'),
    property('Order ID', 'string', 'pdk_hashed_order_id', '`pdk_hashed_order_id`: HMAC-SHA-256 of the order id under the server key'),
    column('Title', 'string', '`item`, else "(Unknown Item - ASIN Not Available)"', ({ point }) => point.get('item') ?? '(Unknown Item - ASIN Not Available)', ['item']),
    property('Category', 'string', 'category'),
    property('ASIN/ISBN', 'string', 'asin'),
    property('UNSPSC Code', 'string', 'unspc_code'),
    property('Website', 'string', 'website'),
    property('Release Date', 'string', 'released'),
    property('Condition', 'string', 'condition'),
    property('Seller', 'string', 'seller'),
    property('Seller Credentials', 'string', 'seller_credentials'),
    property('List Price Per Unit', 'string', 'list_price'),
    property('Purchase Price Per Unit', 'string', 'purchase_price'),
    property('Quantity', 'string', 'quantity', '`quantity` (a whole number as such, anything else as the report wrote it)'),
    always('Payment Instrument Type'),
    always('Purchase Order Number'),
    always('PO Line Number'),
    always('Ordering Customer Email'),
    property('Shipment Date', 'string', 'shipped'),
    always('Shipping Address Name'),
    always('Shipping Address Street 1'),
    always('Shipping Address Street 2'),
    always('Shipping Address City'),
    always('Shipping Address State'),
    property('Shipping Address Zip', 'string', 'zipcode', "`zipcode`: the seller's ZIP code (business reports; the participant's own is never imported)"),
    property('Order Status', 'string', 'status'),
    property('Carrier Name & Tracking Number', 'string', 'carrier_name', '`carrier_name`: the carrier only, without the tracking number'),
    property('Item Subtotal', 'string', 'purchase_subtotal'),
    property('Item Subtotal Tax', 'string', 'purchase_tax'),
    property('Item Total', 'string', 'purchase_total'),
    property('Tax Exemption Applied', 'string', 'tax_exemption_applied'),
    property('Tax Exemption Type', 'string', 'tax_exemption_type'),
    property('Exemption Opt-Out', 'string', 'exemption_opt_out'),
    always('Buyer Name'),
    property('Currency', 'string', 'currency'),
    always('Group Name'),
  ],
};
