/** webmunk-amazon-order, "Webmunk: Amazon Order Items" (webmunk-server.md §5.3.1): one row per order item. */
import type { ExportPoint } from '../export-point.ts';
import type { Exporter, ExportRow } from '../exporter.ts';
import { column, CREATED, CREATED_UTC, property, RECORDED, RECORDED_UTC, SOURCE, TIME_ZONE } from './common.ts';

type Item = Record<string, unknown>;

function* orderItems(point: ExportPoint): Iterable<ExportRow<Item>> {
  const items = point.get('items');
  if (!Array.isArray(items)) return;
  for (const item of items) if (item && typeof item === 'object') yield { point, item: item as Item };
}

const itemField = (header: string, key: string) => column<Item>(header, 'string', `item \`${key}\``, ({ item }) => item[key], []);

export const amazonOrderExporter: Exporter<Item> = {
  id: 'webmunk-amazon-order',
  label: 'Webmunk: Amazon Order Items',
  generators: ['webmunk-amazon-order'],
  layout: 'single',
  rowsAre: 'one row per item of an order',
  rows: orderItems,
  rowReads: ['items'],
  columns: [
    SOURCE, CREATED, CREATED_UTC, RECORDED, RECORDED_UTC, TIME_ZONE,
    property('Order Number', 'string', 'order-number'),
    column('Order Date', 'string', '`order-date` up to its `T` (the date part)', ({ point }) => {
      const date = point.get('order-date');
      return typeof date === 'string' ? date.split('T')[0] : date;
    }, ['order-date']),
    itemField('Item ASIN', 'asin'),
    itemField('Item Title', 'title'),
    itemField('Item Seller', 'seller'),
    itemField('Item Condition', 'condition'),
    itemField('Item Price', 'price'),
    itemField('Item URL', 'url'),
    property('Order Subtotal', 'string', 'order-subtotal'),
    property('Order Pretax Total', 'string', 'order-pretax-total'),
    column('Order Tax', 'string', '`order-tax`, else `order-Tax`', ({ point }) => point.get('order-tax') ?? point.get('order-Tax'), ['order-tax', 'order-Tax']),
    property('Order Shipping', 'string', 'order-shipping'),
    property('Order Total', 'string', 'order-total'),
    property('Destination', 'string', 'order-destination'),
    property('Delivery Date', 'string', 'order-delivered'),
  ],
};
