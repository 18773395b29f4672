/**
 * Derived values of stored Keepa metadata (webmunk-server.md §2.3) and the price history decoding.
 * Expected times were worked out independently (Python datetime from 2011-01-01 UTC), not with the
 * code under test.
 */
import { describe, expect, it } from 'vitest';
import { decodePriceSeries, deriveProductFields, keepaEntries, keepaMinutesToDate, priceHistory } from '../../src/amazon/keepa-product.ts';

/** A Keepa product object as the product request returns it (history=1, buybox=1), abridged. */
function echoDot(): Record<string, unknown> {
  const csv: Array<number[] | null> = Array.from({ length: 34 }, () => null);
  // AMAZON: $49.99 on 2018-09-20, $24.99 on 2018-12-27, out of stock 2020-09-11 16:00, $39.99 on 2022-11-28
  csv[0] = [4059360, 4999, 4200480, 2499, 5100000, -1, 6262560, 3999];
  // NEW: $49.99, $22.99, then $29.50 on 2023-09-27 18:40
  csv[1] = [4059360, 4999, 4200480, 2299, 6700000, 2950];
  csv[3] = [4059360, 12, 4200480, 1, 6700000, 87];
  csv[11] = [4059360, 3, 6700000, 41];
  csv[16] = [4059360, 46, 6700000, 47];
  csv[17] = [4059360, 1520, 6700000, 981634];
  csv[18] = [4059360, 4999, 0, 6700000, 2950, 0];
  return {
    csv,
    categories: [9818047011],
    imagesCSV: '61MZfowYoaL.jpg,71JB6hM6Z6L.jpg,81cG0sl+QgL.jpg',
    manufacturer: 'Amazon',
    title: 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal',
    lastUpdate: 6701234,
    lastPriceChange: 6700000,
    rootCategory: 172282,
    productType: 0,
    parentAsin: 'B07H65KP63',
    variationCSV: null,
    asin: 'B07FZ8S74R',
    domainId: 1,
    type: 'SPEAKERS',
    hasReviews: true,
    trackingSince: 3960000,
    brand: 'Amazon',
    productGroup: 'Amazon Devices',
    partNumber: 'B07FZ8S74R',
    model: 'C78MP8',
    color: 'Charcoal',
    size: 'Without clock',
    packageHeight: 104,
    packageLength: 109,
    packageWidth: 105,
    packageWeight: 340,
    categoryTree: [
      { catId: 172282, name: 'Electronics' },
      { catId: 667846011, name: 'Home Audio' },
      { catId: 9818047011, name: 'Smart Speakers' },
    ],
    eanList: ['0841667174051'],
    upcList: ['841667174051'],
    buyBoxSellerIdHistory: ['4059360', 'ATVPDKIKX0DER', '6700000', 'ATVPDKIKX0DER'],
    buyBoxSellerId: 'ATVPDKIKX0DER',
  };
}

describe('deriveProductFields', () => {
  it('derives every value of one stored Keepa product', () => {
    expect(deriveProductFields({ keepa: [echoDot()] })).toEqual({
      title: 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal',
      brand: 'Amazon',
      manufacturer: 'Amazon',
      type: 'SPEAKERS',
      size: 'Without clock',
      rootCategory: 172282,
      categoryTree: 'Electronics > Home Audio > Smart Speakers',
      categoryTreeIds: '172282 > 667846011 > 9818047011',
      seller: 'ATVPDKIKX0DER',
    });
  });

  it('takes most values from the first entry, the brand from the last, and the category tree from all', () => {
    const second = { ...echoDot(), asin: 'B0000SECND', title: 'Second', brand: 'Other brand', manufacturer: 'Other', type: 'TOY', size: 'XL', rootCategory: 165793011, categoryTree: [{ catId: 165793011, name: 'Toys & Games' }] };
    const fields = deriveProductFields({ keepa: [echoDot(), second] });
    expect(fields.title).toBe('Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal');
    expect(fields.manufacturer).toBe('Amazon');
    expect(fields.type).toBe('SPEAKERS');
    expect(fields.size).toBe('Without clock');
    expect(fields.rootCategory).toBe(172282);
    expect(fields.brand).toBe('Other brand');
    expect(fields.categoryTree).toBe('Electronics > Home Audio > Smart Speakers > Toys & Games');
    expect(fields.categoryTreeIds).toBe('172282 > 667846011 > 9818047011 > 165793011');
  });

  it("gives '' for a brand the last entry lacks, and null for a brand Keepa sent as null", () => {
    const { brand: _dropped, ...noBrand } = echoDot();
    expect(deriveProductFields({ keepa: [echoDot(), noBrand] }).brand).toBe('');
    expect(deriveProductFields({ keepa: [noBrand, echoDot()] }).brand).toBe('Amazon');
    expect(deriveProductFields({ keepa: [{ ...echoDot(), brand: null }] }).brand).toBeNull();
  });

  it('uses sellerIds when present and not null, else buyBoxSellerId; a list is joined with commas', () => {
    expect(deriveProductFields({ keepa: [{ ...echoDot(), sellerIds: ['A1PA6795UKMFR9', 'ATVPDKIKX0DER'] }] }).seller).toBe('A1PA6795UKMFR9,ATVPDKIKX0DER');
    expect(deriveProductFields({ keepa: [{ ...echoDot(), sellerIds: 'A1PA6795UKMFR9' }] }).seller).toBe('A1PA6795UKMFR9');
    expect(deriveProductFields({ keepa: [{ ...echoDot(), sellerIds: null }] }).seller).toBe('ATVPDKIKX0DER');
    const { buyBoxSellerId: _gone, ...noBuyBox } = echoDot();
    expect(deriveProductFields({ keepa: [noBuyBox] }).seller).toBeNull();
    // Only the first entry counts.
    expect(deriveProductFields({ keepa: [noBuyBox, { ...echoDot(), sellerIds: ['A2L77EE7U53NWQ'] }] }).seller).toBeNull();
  });

  it('skips entries that are not objects', () => {
    const fields = deriveProductFields({ keepa: ['Not found', null, 42, [1, 2], echoDot()] });
    expect(fields.title).toBe('Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal');
    expect(fields.rootCategory).toBe(172282);
    expect(keepaEntries({ keepa: ['x', echoDot()] })).toHaveLength(1);
  });

  it('has no entries when keepa is not a list, and nothing at all for null or unparsable metadata', () => {
    const none = { title: null, brand: null, manufacturer: null, type: null, size: null, rootCategory: null, categoryTree: null, categoryTreeIds: null, seller: null };
    expect(deriveProductFields({ keepa: 'Invalid identifier' })).toEqual({ ...none, categoryTree: '', categoryTreeIds: '' });
    expect(deriveProductFields({ keepa: { asin: 'B07FZ8S74R', title: 'not a list' } })).toEqual({ ...none, categoryTree: '', categoryTreeIds: '' });
    expect(deriveProductFields(null)).toEqual(none);
    expect(deriveProductFields(undefined)).toEqual(none);
    expect(deriveProductFields('{"keepa": [')).toEqual(none);
  });

  it('reads metadata given as JSON text with bare NaN tokens (as the original stored it)', () => {
    const json = '{"keepa": [{"asin": "B07FZ8S74R", "title": "NaN Dot", "brand": "Amazon", "rootCategory": 172282, "data": {"AMAZON": [49.99, NaN, 39.99]}, "categoryTree": [{"catId": 172282, "name": "Electronics"}]}]}';
    const fields = deriveProductFields(json);
    expect(fields.title).toBe('NaN Dot');
    expect(fields.brand).toBe('Amazon');
    expect(fields.categoryTree).toBe('Electronics');
  });

  it('leaves out category elements that are not objects and names that are missing', () => {
    const product = { ...echoDot(), categoryTree: [{ catId: 172282, name: 'Electronics' }, null, 'x', { catId: 667846011 }, { name: 'Speakers' }] };
    const fields = deriveProductFields({ keepa: [product] });
    expect(fields.categoryTree).toBe('Electronics > Speakers');
    expect(fields.categoryTreeIds).toBe('172282 > 667846011');
  });
});

describe('priceHistory', () => {
  it('decodes the AMAZON and NEW series into times and prices, -1 as null', () => {
    expect(priceHistory(echoDot())).toEqual({
      amazon: [
        { time: '2018-09-20T00:00:00.000Z', price: 49.99 },
        { time: '2018-12-27T00:00:00.000Z', price: 24.99 },
        { time: '2020-09-11T16:00:00.000Z', price: null },
        { time: '2022-11-28T00:00:00.000Z', price: 39.99 },
      ],
      new: [
        { time: '2018-09-20T00:00:00.000Z', price: 49.99 },
        { time: '2018-12-27T00:00:00.000Z', price: 22.99 },
        { time: '2023-09-27T18:40:00.000Z', price: 29.5 },
      ],
    });
  });

  it('is empty without history (history=0, or a stub product)', () => {
    expect(priceHistory({ ...echoDot(), csv: null })).toEqual({ amazon: [], new: [] });
    expect(priceHistory({ asin: 'B000000000', title: null })).toEqual({ amazon: [], new: [] });
    expect(priceHistory(null)).toEqual({ amazon: [], new: [] });
    expect(priceHistory({ csv: [null, [4059360, 1000]] })).toEqual({ amazon: [], new: [{ time: '2018-09-20T00:00:00.000Z', price: 10 }] });
  });

  it('treats NaN-turned-null prices as null and drops a trailing time without a price', () => {
    expect(decodePriceSeries([4059360, null, 4200480, 1999, 5100000])).toEqual([
      { time: '2018-09-20T00:00:00.000Z', price: null },
      { time: '2018-12-27T00:00:00.000Z', price: 19.99 },
    ]);
  });

  it('adds shipping for the *_SHIPPING triplets', () => {
    expect(decodePriceSeries([4059360, 4999, 599, 6700000, -1, 0], true)).toEqual([
      { time: '2018-09-20T00:00:00.000Z', price: 55.98 },
      { time: '2023-09-27T18:40:00.000Z', price: null },
    ]);
  });

  it('counts Keepa minutes from 2011-01-01 UTC', () => {
    expect(keepaMinutesToDate(0).toISOString()).toBe('2011-01-01T00:00:00.000Z');
    expect(keepaMinutesToDate(3960000).toISOString()).toBe('2018-07-13T00:00:00.000Z');
  });
});
