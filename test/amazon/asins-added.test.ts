/**
 * `/support/asins.json`'s `added`, as the original writes it: the `created` time of the first point
 * the product was seen in (not when the harvest found it), as Python's isoformat() of an aware UTC
 * datetime (webmunk-server.md §2.1, §7.1; ecosystem-api.md §2.6).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import { useTestServer } from '../helpers/server.ts';
import { productItem, seededRandom, STUDY_PRODUCTS, studyPoint } from '../helpers/study-points.ts';
import { postGzip } from '../processing/support.ts';

const AGENT = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36';
const [CHARGER, ECHO] = STUDY_PRODUCTS;

describe('/support/asins.json added', () => {
  const server = useTestServer({ ASIN_PEER_TOKENS: 'peer-one' });
  const random = seededRandom(3);
  // whole seconds, days before the harvest runs
  const second = Math.floor(Date.now() / 1000) * 1000;
  const threeDaysAgo = second - 3 * 86_400_000;
  const twoDaysAgo = second - 2 * 86_400_000;

  /** A participant's element-show point with `product` in it, created at `ms` + `fraction` seconds. */
  function sighting(product: (typeof STUDY_PRODUCTS)[number], ms: number, fraction = 0) {
    const point = studyPoint('webmunk-extension-element-show', { source: 'P0001', created: new Date(ms), userAgent: AGENT, random });
    point['element-content*'] = productItem(product, String(point['element-id']), 1);
    point['passive-data-metadata']!.timestamp = ms / 1000 + fraction;
    return point;
  }

  async function harvested(points: unknown[] = []): Promise<Array<Record<string, unknown>>> {
    if (points.length > 0) {
      await postGzip(server, points);
      await server.process();
      await harvestAsins(server.db.pool, server.config);
    }
    const response = await fetch(`${server.baseUrl}/support/asins.json`, { headers: { authorization: 'Bearer peer-one' } });
    expect(response.status).toBe(200);
    return response.json();
  }

  const iso = (ms: number, fraction = '') => `${new Date(ms).toISOString().slice(0, 19)}${fraction}+00:00`;

  beforeAll(async () => {
    // The charger seen three days ago and again yesterday; then, in a later upload, the speaker two days ago.
    await harvested([sighting(CHARGER, threeDaysAgo, 0.25), sighting(CHARGER, second - 86_400_000)]);
    await harvested([sighting(ECHO, twoDaysAgo)]);
  });

  it('is the created time of the first point the product was seen in, in UTC as the original writes it', async () => {
    const list = await harvested();
    expect(list.map((p) => [p.asin, p.added])).toEqual([
      [CHARGER.asin, iso(threeDaysAgo, '.250000')],
      [ECHO.asin, iso(twoDaysAgo)],
    ]);
    const { rows } = await server.db.pool.query(`SELECT min(created) AS created FROM data_points WHERE properties ->> 'element-content*' LIKE '%' || $1 || '%'`, [CHARGER.asin]);
    expect(new Date(rows[0].created).getTime()).toBe(threeDaysAgo + 250);
  });

  it('moves to an older point that arrives late, and the list keeps its order', async () => {
    const fiveDaysAgo = second - 5 * 86_400_000;
    const list = await harvested([sighting(ECHO, fiveDaysAgo, 0.000_5)]);
    // in the order they were found, as the original's ids, so pages already read do not shift
    expect(list.map((p) => [p.asin, p.added])).toEqual([
      [CHARGER.asin, iso(threeDaysAgo, '.250000')],
      [ECHO.asin, iso(fiveDaysAgo, '.000500')],
    ]);
  });
});
