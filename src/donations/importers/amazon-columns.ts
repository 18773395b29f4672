/**
 * The columns of Amazon's Items report that the importer reads (ecosystem-api.md §3.1), in the
 * consumer "Order History Report" spelling and the Amazon Business one: for each property the
 * first column present in the file wins. Every other column is never read, among them the 34
 * the original scrubbed from its stored copy after import (webmunk-server.md §12.6): here they
 * never leave the participant's file at all.
 */

/** Columns without which a report cannot be imported (the original stopped at the first row lacking one). */
export const REQUIRED_COLUMNS = [
  'Order Date', 'Order ID', 'Title', 'Seller Credentials', 'Item Subtotal', 'Tax Exemption Applied', 'Tax Exemption Type', 'Currency',
] as const;

/** Text properties, in the original's order: the property and its columns, first present wins. */
export const TEXT_PROPERTIES: readonly (readonly [property: string, columns: readonly string[]])[] = [
  ['item', ['Title']],
  ['category', ['Category', 'Segment']],
  ['asin', ['ASIN/ISBN', 'ASIN']],
  ['unspc_code', ['UNSPSC Code', 'UNSPSC']],
  ['website', ['Website']],
  ['condition', ['Condition', 'Product Condition']],
  ['seller', ['Seller', 'Seller Name']],
  ['seller_credentials', ['Seller Credentials']],
  ['list_price', ['List Price Per Unit', 'Listed PPU']],
  ['purchase_price', ['Purchase Price Per Unit', 'Purchase PPU']],
  ['purchase_subtotal', ['Item Subtotal']],
  ['purchase_tax', ['Item Subtotal Tax', 'Item Tax']],
  ['purchase_total', ['Item Total', 'Item Net Total']],
  ['tax_exemption_applied', ['Tax Exemption Applied']],
  ['tax_exemption_type', ['Tax Exemption Type']],
  ['exemption_opt_out', ['Exemption Opt-Out', 'Tax Exemption Opt Out']],
  ['currency', ['Currency']],
];

export const QUANTITY_COLUMNS = ['Quantity', 'Item Quantity'] as const;
/**
 * The seller's ZIP code (business reports). The original read `Shipping Address Zip` first: the
 * participant's own address, one of the 34 personal columns, so it is not read here.
 */
export const ZIPCODE_COLUMNS = ['Seller ZipCode'] as const;
/** Only the carrier's name before the `(` is kept: the tracking number is personal. */
export const CARRIER_COLUMN = 'Carrier Name & Tracking Number';
export const STATUS_COLUMN = 'Order Status';
export const SHIPMENT_DATE_COLUMN = 'Shipment Date';
export const RELEASE_DATE_COLUMN = 'Release Date';

/** Amazon's marker in the Order Date column of a report without orders. */
export const NO_DATA_MARKER = 'No data found for this time period';

