/**
 * The ASIN harvest on a real database with real-format points uploaded over HTTP: what it finds
 * and counts, that re-runs and `dcs reprocess` change nothing, and that a late upload (points
 * created long before the last run) is scanned too, unlike the original's cursor on `created`.
 * Its outbox under concurrent processing: harvest-outbox.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { asinHarvestJob } from '../../src/amazon/asin-harvest.job.ts';
import { harvestAsins } from '../../src/amazon/harvest.ts';
import { addRule, setRuleEnabled } from '../../src/data-quality/exclusion-rules.repository.ts';
import { createLogger } from '../../src/log.ts';
import { queueReprocess } from '../../src/processing/reprocess.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { uploadPoints } from '../exports/support.ts';

const server = useTestServer();

async function products() {
  const { rows } = await server.db.pool.query(`SELECT asin, points::int, sources, ordered, keepa_state, to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS first_seen FROM amazon_products ORDER BY asin`);
  return rows;
}
async function sightings(asin: string) {
  const { rows } = await server.db.pool.query(`SELECT source, generator_id, points::int, ordered FROM amazon_product_sightings WHERE asin = $1 ORDER BY generator_id`, [asin]);
  return rows;
}

describe('asin harvest', () => {
  it('finds ordered and seen products in real-format points, counted per source and data type', async () => {
    await uploadPoints(server, samples(0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12));
    const result = await harvestAsins(server.db.pool, server.config);
    expect(result.points).toBe(9); // matched-rule ×2, class-added, show, hide, click, log-elements, order... (not action, tasks)
    expect(await products()).toEqual([
      { asin: 'B08L5TNJHG', points: 1, sources: 1, ordered: false, keepa_state: 'pending', first_seen: '2022-10-10T14:40:33.201000' },
      { asin: 'B0BXYZ1234', points: 5, sources: 1, ordered: true, keepa_state: 'pending', first_seen: '2023-09-14T15:43:08.930000' },
    ]);
    expect(await sightings('B0BXYZ1234')).toEqual([
      { source: '48213077', generator_id: 'webmunk-amazon-order', points: 1, ordered: true },
      { source: '48213077', generator_id: 'webmunk-extension-class-added', points: 1, ordered: false },
      { source: '48213077', generator_id: 'webmunk-extension-element-hide', points: 1, ordered: false },
      { source: '48213077', generator_id: 'webmunk-extension-element-show', points: 1, ordered: false },
      { source: '48213077', generator_id: 'webmunk-extension-log-elements', points: 1, ordered: false },
    ]);
    const { rows } = await server.db.pool.query('SELECT points_scanned, (SELECT count(*)::int FROM harvest_queue) AS queued FROM amazon_harvest_state');
    expect(rows[0]).toEqual({ points_scanned: 9, queued: 0 });
  });

  it('changes nothing when run again or after dcs reprocess', async () => {
    const before = await products();
    expect((await harvestAsins(server.db.pool, server.config)).points).toBe(0);
    await queueReprocess(server.db.pool, {});
    await server.process();
    const again = await harvestAsins(server.db.pool, server.config);
    expect(again.points).toBe(9); // the rebuilt points are queued again, so they are scanned again...
    expect(again.sightings).toBe(0); // ...but every (product, point) pair was counted already
    expect(await products()).toEqual(before);
  });

  it('scans a late upload of old points, validates ASINs and counts the rejected ones', async () => {
    const [late] = samples(2);
    late['passive-data-metadata']!.timestamp = 1577880000; // 2020-01-01, long before the last run
    late['element-content*'] = '<div data-asin="b07late123"><a href="https://www.amazon.com/gp/product/B0LINK0001?psc=1">x</a><span data-asin="B0X"></span><a href="/dp/NOTANASIN12/">y</a></div>';
    late['url*'] = 'https://www.amazon.com/Some-Product/dp/B0URL00001/ref=sr_1_1?keywords=a';
    await uploadPoints(server, [late]);
    const result = await harvestAsins(server.db.pool, server.config);
    expect(result.points).toBe(1);
    expect(result.rejected).toBeGreaterThanOrEqual(2);
    expect((await products()).map((p) => p.asin)).toEqual(['B07LATE123', 'B08L5TNJHG', 'B0BXYZ1234', 'B0LINK0001', 'B0URL00001']);
    const { rows } = await server.db.pool.query(`SELECT asin FROM amazon_products WHERE asin !~ '^[A-Z0-9]{10}$'`);
    expect(rows).toEqual([]);
  });

  it('scans a long queue with two scanners (the scan thread and this one), each chunk once', async () => {
    const point = (asin: string, second: number) => {
      const [p] = samples(2);
      p['passive-data-metadata']!.timestamp = 1700000000 + second;
      p['element-content*'] = `<div data-asin="${asin}"></div>`;
      return p;
    };
    // five points, each in a chunk of its own: the scan thread takes the first, third and fifth
    for (let k = 0; k < 5; k++) await uploadPoints(server, [point(`B0THREAD0${k}`, k)]);
    const result = await harvestAsins(server.db.pool, server.config, { threadMinPoints: 0, chunkPoints: 1 });
    expect(result).toMatchObject({ points: 5, sightings: 5, newProducts: 5 });
    const found = (await products()).map((p) => p.asin).filter((a) => a.startsWith('B0THREAD'));
    expect(found).toEqual(['B0THREAD00', 'B0THREAD01', 'B0THREAD02', 'B0THREAD03', 'B0THREAD04']);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS queued FROM harvest_queue');
    expect(rows[0].queued).toBe(0);
  });

  it('counts products without the sightings exclusion rules leave out, once the rules change, and again when they go', async () => {
    const job = () => asinHarvestJob.run({ pool: server.db.pool, config: server.config, log: createLogger('silent') });
    const before = await products();
    const counts = async (asin: string) => (await products()).find((p) => p.asin === asin);
    expect(await job()).toMatchObject({ recounted: 0 });
    const hide = await sightings('B0BXYZ1234').then((rows) => rows.find((r) => r.generator_id === 'webmunk-extension-element-hide'));
    const typed = await addRule(server.db.pool, { source: '48213077', generatorId: 'webmunk-extension-element-hide', reason: 'test' }, 'ana');
    expect(await job()).toMatchObject({ recounted: before.length });
    expect(await counts('B0BXYZ1234')).toMatchObject({ points: before.find((p) => p.asin === 'B0BXYZ1234').points - hide.points, sources: 1, ordered: true });
    expect(await job()).toMatchObject({ recounted: 0 });
    // the whole source: its products keep their rows (and their place in Keepa's queue), counted at zero
    const whole = await addRule(server.db.pool, { source: '48213077', reason: 'test' }, 'ana');
    await job();
    expect(await counts('B0BXYZ1234')).toMatchObject({ points: 0, sources: 0, ordered: true });
    // a time window takes out the sightings whose points it holds, first to last
    await setRuleEnabled(server.db.pool, whole, false, 'ana');
    await setRuleEnabled(server.db.pool, typed, false, 'ana');
    const window = await addRule(server.db.pool, { createdFrom: new Date('2023-09-14T00:00:00Z'), createdTo: new Date('2023-09-15T00:00:00Z'), reason: 'test' }, 'ana');
    await job();
    expect(await counts('B0BXYZ1234')).toMatchObject({ points: 0, sources: 0 });
    expect(await counts('B08L5TNJHG')).toEqual(before.find((p) => p.asin === 'B08L5TNJHG'));
    await setRuleEnabled(server.db.pool, window, false, 'ana');
    await job();
    expect(await products()).toEqual(before);
  });
});
