/**
 * Donated points as the donation flow will store them (issue 20): the importer's properties with
 * the passive-data-metadata the original's create_data_point wrote (ecosystem-api.md §3), to be
 * uploaded as a bundle for the participant's source.
 */
import type { DonationPoint } from '../../src/donations/importer-contract.ts';
import type { Point } from './samples.ts';

export function storedLikeTheFlow(point: DonationPoint, source: string): Point {
  return {
    ...point.properties,
    'passive-data-metadata': {
      timestamp: Math.floor(point.created.getTime() / 1000),
      'generator-id': point.generatorId,
      generator: `${point.generatorId}: Passive Data Kit External Importer`,
      source,
    },
  };
}

/** An item of a donated Amazon order history with every property the importer writes (for tests that need one of each type). */
export const DONATED_AMAZON_ITEM: Point = storedLikeTheFlow({
  generatorId: 'pdk-external-amazon-item',
  created: new Date('2023-01-15T17:00:00Z'),
  properties: {
    item: 'USB-C Cable, 6 ft "braided"', category: 'ELECTRONICS', asin: 'B07THHQMHM', unspc_code: '43202222', website: 'Amazon.com',
    condition: 'new', seller: 'Anker Direct', seller_credentials: 'Small Business', list_price: '$15.99', purchase_price: '$12.99',
    purchase_subtotal: '$25.98', purchase_tax: '$2.08', purchase_total: '$28.06', tax_exemption_applied: 'No', tax_exemption_type: 'None',
    exemption_opt_out: 'No', currency: 'USD', quantity: 2, zipcode: '45402', carrier_name: 'UPS', status: 'Shipped', ordered: '2023-01-15',
    pdk_hashed_order_id: '0f3c2b1a9e8d7c6b5a49382716055f4e3d2c1b0a99887766554433221100ffee', shipped: '2023-01-16', released: '2019-09-13',
  },
}, '40172630');
