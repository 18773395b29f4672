/**
 * Donated points after processing, as the donation flow stores them (a bundle for the participant's
 * source): engagement points get the original's secondary identifier, two purchases on one day
 * stay two engagement points while the same file donated twice stores each point once, and a
 * donated item's ASIN joins the harvest as ordered.
 */
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import type { DonationPoint, ImportContext } from '../../src/donations/importer-contract.ts';
import { amazonImporter } from '../../src/donations/importers/amazon.ts';
import { chatgptImporter } from '../../src/donations/importers/chatgpt.ts';
import { storedLikeTheFlow } from '../helpers/donations.ts';
import { useTestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { zipOf } from './zip-files.ts';

const server = useTestServer();
const CONTEXT: ImportContext = { timeZone: 'America/New_York', hashKey: new Uint8Array(32).fill(3), contentPublicKey: nacl.box.keyPair().publicKey, maxExpandedBytes: 1024 * 1024 };

/** Two orders on one day, the same kettle in both, and a mug in the second. */
const SAME_DAY_REPORT = Buffer.from([
  'Order Date,Order ID,Title,ASIN/ISBN,Seller Credentials,Quantity,Item Subtotal,Tax Exemption Applied,Tax Exemption Type,Currency',
  '3/14/24,111-0000001-0000001,Electric Kettle,B0KETTLE01,,1,$20.00,,,USD',
  '3/14/24,111-0000002-0000002,Electric Kettle,B0KETTLE01,,1,$20.00,,,USD',
  '3/14/24,111-0000002-0000002,Coffee Mug,B0MUGMUG02,,2,$9.00,,,USD',
  '',
].join('\r\n'));

const pointsOf = (rows: { points: DonationPoint[] }[], source: string) => rows.flatMap((row) => row.points).map((point) => storedLikeTheFlow(point, source));

async function stored(source: string) {
  const { rows } = await server.db.pool.query(
    `SELECT generator_id, secondary_identifier, properties FROM data_points WHERE source = $1 ORDER BY generator_id, id`,
    [source],
  );
  return rows;
}

describe('donated points through processing', () => {
  it('keeps two same-day purchases as two engagement points, and stores a file donated twice once', async () => {
    const source = '61000001';
    const extraction = await amazonImporter.extract({ name: 'items.csv', bytes: SAME_DAY_REPORT }, CONTEXT);
    const points = pointsOf(extraction.rows, source);
    await postGzip(server, points);
    await postGzip(server, points);
    await server.process();
    const rows = await stored(source);
    const engagement = rows.filter((row) => row.generator_id === 'pdk-external-engagement-amazon');
    expect(rows.filter((row) => row.generator_id === 'pdk-external-amazon-item')).toHaveLength(3);
    expect(engagement.map((row) => [row.properties.asin, row.secondary_identifier])).toEqual([
      ['B0KETTLE01', 'active'], ['B0KETTLE01', 'active'], ['B0MUGMUG02', 'active'],
    ]);
    expect(new Set(engagement.map((row) => row.properties.pdk_hashed_order_id)).size).toBe(2);
  });

  it('gives engagement points the original\'s secondary identifier: active, incoming active, passive, none', async () => {
    const source = '61000002';
    const conversations = readFileSync(new URL('../fixtures/donations/chatgpt-conversations.json', import.meta.url));
    const extraction = await chatgptImporter.extract({ name: 'export.zip', bytes: await zipOf([{ name: 'conversations.json', data: conversations }]) }, CONTEXT);
    const created = new Date('2025-03-01T12:00:00Z');
    // what other importers of the original made: no outgoing engagement at all, or one of 0
    const others = [
      { generatorId: 'pdk-external-engagement-chatgpt', created, properties: { type: 'view', duration: 5, outgoing_engagement: 0, message_id: 'passive' } },
      { generatorId: 'pdk-external-engagement-chatgpt', created, properties: { type: 'view', duration: 5, message_id: 'none' } },
      { generatorId: 'pdk-external-engagement-chatgpt', created, properties: { type: 'view', duration: 5, outgoing_engagement: '1', message_id: 'text' } },
    ];
    await postGzip(server, [...pointsOf(extraction.rows, source), ...others.map((point) => storedLikeTheFlow(point, source))]);
    await server.process();
    const engagement = (await stored(source)).filter((row) => row.generator_id === 'pdk-external-engagement-chatgpt');
    expect(Object.fromEntries(engagement.map((row) => [row.properties.message_id, row.secondary_identifier]))).toEqual({
      '7a2b3c4d-sys1': 'incoming active',
      'b41f9e20-user1': 'active',
      'e3f4a5b6-user2': 'active',
      '3d4e5f60-u': 'active',
      passive: 'passive',
      none: 'none',
      // Python compared a text with 0 and failed; here it is no positive number
      text: 'passive',
    });
    // the messages themselves have no secondary identifier (as the original)
    expect((await stored(source)).filter((row) => row.generator_id === 'pdk-external-chatgpt-message').every((row) => row.secondary_identifier === null)).toBe(true);
  });

  it('makes a donated item\'s ASIN known to the harvest as ordered', async () => {
    const result = await harvestAsins(server.db.pool, server.config);
    expect(result.newProducts).toBeGreaterThanOrEqual(2);
    const { rows } = await server.db.pool.query(
      `SELECT p.asin, p.ordered, s.source, s.generator_id, s.points::int, s.ordered AS sighting_ordered
       FROM amazon_products p JOIN amazon_product_sightings s USING (asin) WHERE p.asin IN ('B0KETTLE01', 'B0MUGMUG02') ORDER BY p.asin`,
    );
    expect(rows).toEqual([
      { asin: 'B0KETTLE01', ordered: true, source: '61000001', generator_id: 'pdk-external-amazon-item', points: 2, sighting_ordered: true },
      { asin: 'B0MUGMUG02', ordered: true, source: '61000001', generator_id: 'pdk-external-amazon-item', points: 1, sighting_ordered: true },
    ]);
  });
});
