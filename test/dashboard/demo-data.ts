/**
 * A small study for the screenshots and browser tests: two waves of participants with names,
 * 14 days of real-format points (some stopped a few days ago, one never started, one a bot),
 * an extension reporting a backlog, an errored bundle, and a day of server-health snapshots.
 * Uploaded over HTTP and processed for real; only the older snapshots are written by SQL (the
 * job takes one every 15 minutes, and a screenshot cannot wait a day).
 */
import { gzipSync } from 'node:zlib';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import type { TestServer } from '../helpers/server.ts';
import { CHROME, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';

const FIREFOX = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0';
const TYPES = ['webmunk-history-visit', 'webmunk-extension-element-show', 'webmunk-extension-element-click', 'webmunk-extension-scroll-position'];

async function upload(server: TestServer, points: unknown[]): Promise<void> {
  const payload = gzipSync(Buffer.from(JSON.stringify(points))).toString('base64');
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ compression: 'gzip', payload }).toString(),
  });
  if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
}

/** A deterministic pseudo-random sequence, so every run draws the same study. */
function random(seed: number) {
  let state = seed;
  return () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

export async function seedDemoStudy(server: TestServer): Promise<void> {
  const pool = server.db.pool;
  const next = random(7);
  const now = Date.now();
  const participants: Array<{ id: string; name: string; group: string; stoppedDaysAgo: number; agent: string; perDay: number }> = [];
  for (let i = 1; i <= 18; i++) {
    participants.push({
      id: `P${String(i).padStart(4, '0')}`,
      name: `Participant ${i}`,
      group: i <= 10 ? 'Wave 1' : 'Wave 2',
      // most are active; a few dropped off 2 to 9 days ago
      stoppedDaysAgo: i % 6 === 0 ? 2 + (i % 8) : i % 7 === 0 ? 0.3 : 0,
      agent: i % 3 === 0 ? FIREFOX : CHROME,
      perDay: 20 + Math.floor(next() * 60),
    });
  }
  participants.push({ id: 'P0019', name: 'Test run (lab)', group: 'Wave 2', stoppedDaysAgo: 0, agent: HEADLESS, perDay: 90 });
  for (const p of participants) {
    const points = [];
    for (let day = 13; day >= 0; day--) {
      if (day < p.stoppedDaysAgo) break;
      const count = Math.round(p.perDay * (0.5 + next()));
      for (let k = 0; k < count; k++) {
        const created = new Date(now - day * 86_400_000 - next() * 86_400_000);
        if (created.getTime() > now - p.stoppedDaysAgo * 86_400_000) continue;
        points.push(pointAt(p.id, created, { generatorId: TYPES[Math.floor(next() * TYPES.length)], userAgent: p.agent, body: { url: `https://www.example.com/page/${k}`, title: `Example page ${k}` } }));
      }
    }
    for (let i = 0; i < points.length; i += 500) await upload(server, points.slice(i, i + 500));
  }
  // The extension of P0004 reports 12,480 points waiting (a client backlog).
  await upload(server, [pointAt('P0004', hoursAgo(0.5), { generatorId: 'pdk-system-status', body: { 'pending-points': 12_480 } })]);
  // One upload that is not a bundle at all: errored at processing.
  await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%22not%22%3A%22a%20list%22%7D' });
  await server.process();

  await pool.query(`INSERT INTO source_groups (name) VALUES ('Wave 1'), ('Wave 2') ON CONFLICT DO NOTHING`);
  await pool.query(
    `UPDATE data_sources s SET name = p.name, group_id = g.id
     FROM unnest($1::text[], $2::text[], $3::text[]) AS p (id, name, grp) JOIN source_groups g ON g.name = p.grp
     WHERE s.source = p.id`,
    [participants.map((p) => p.id), participants.map((p) => p.name), participants.map((p) => p.group)],
  );
  await pool.query(`INSERT INTO data_sources (source, first_seen, name) VALUES ('P0020', now() - interval '3 days', 'Participant 20 (enrolled, not started)') ON CONFLICT DO NOTHING`);

  // A day of snapshots before the real one: a steady intake with a processing backlog at midday.
  await pool.query(
    `INSERT INTO server_health_snapshots (taken_at, bundles_received, bundles_added, bundles_pending, bundles_errored, points_total, points_added, processing_lag_seconds)
     SELECT now() - i * interval '15 minutes', 1000 - i * 8, 6 + (i % 5), CASE WHEN i BETWEEN 40 AND 46 THEN (46 - i) * 9 ELSE i % 2 END, 1,
            60000 - i * 300, 250 + (i * 37) % 180, CASE WHEN i BETWEEN 40 AND 46 THEN (46 - i) * 40 ELSE 1 + i % 3 END
     FROM generate_series(1, 96) AS i`,
  );
  for (const job of [sourceStatisticsJob, statusChecksJob, serverHealthJob]) await runOk(pool, server.config, job);
}

const PRODUCTS: Array<[string, string, string, string[]]> = [
  ['B0BXYZ1234', 'Anker USB C Charger 20W, 511 Charger (Nano), PIQ 3.0 Foldable', 'Anker', ['Electronics', 'Accessories & Supplies', 'Chargers & Adapters']],
  ['B08L5TNJHG', 'Echo Dot (4th Gen) | Smart speaker with Alexa | Charcoal', 'Amazon', ['Amazon Devices & Accessories', 'Amazon Devices', 'Echo Smart Speakers']],
  ['B07FZ8S74R', 'Echo Dot (3rd Gen) - Smart speaker with Alexa - Charcoal', 'Amazon', ['Amazon Devices & Accessories', 'Amazon Devices']],
  ['B0C1H26C46', 'Stanley Quencher H2.0 FlowState Stainless Steel Vacuum Insulated Tumbler 40 oz', 'STANLEY', ['Home & Kitchen', 'Kitchen & Dining', 'Travel & To-Go Drinkware']],
  ['B09B8V1LZ3', 'Amazon Basics Microfiber Bed Sheet Set, Queen, Dark Grey', 'Amazon Basics', ['Home & Kitchen', 'Bedding', 'Sheets & Pillowcases']],
];

/** A few Amazon products for the Products pages: seen and ordered by demo participants, most enriched. */
export async function seedDemoProducts(server: TestServer): Promise<void> {
  const { samples } = await import('../helpers/samples.ts');
  const { harvestAsins } = await import('../../src/amazon/harvest.ts');
  const points = [];
  for (let i = 1; i <= 12; i++) {
    for (const [k, [asin]] of PRODUCTS.entries()) {
      if ((i + k) % 3 === 0) continue;
      const [show] = samples(2);
      Object.assign(show['passive-data-metadata']!, { source: `P${String(i).padStart(4, '0')}`, timestamp: Date.now() / 1000 - (i * 7 + k) * 3600 });
      show['element-content*'] = `<div data-asin="${asin}"><a href="/dp/${asin}/ref=sr_1_${k}">item</a></div>`;
      points.push(show);
    }
  }
  const [order] = samples(10);
  order['passive-data-metadata']!.source = 'P0003';
  points.push(order);
  await upload(server, points);
  await server.process();
  await harvestAsins(server.db.pool, server.config);
  const minutes = (daysAgo: number) => Math.round((Date.now() - daysAgo * 86_400_000) / 60_000) - 21_564_000;
  for (const [k, [asin, title, brand, tree]] of PRODUCTS.entries()) {
    if (k === 4) continue; // one still pending
    const base = [1599, 2499, 2299, 4500, 2899][k];
    const csv = [[minutes(90), base, minutes(60), base - 300, minutes(45), -1, minutes(30), base - 100, minutes(8), base - 500, minutes(2), base]];
    const product = { asin, title, brand, manufacturer: brand, type: 'ITEM', size: 'One size', rootCategory: 1000 + k, categoryTree: tree.map((name, i) => ({ catId: 1000 + k * 10 + i, name })), csv };
    await server.db.pool.query(
      `UPDATE amazon_products SET keepa_state = 'enriched', keepa_attempts = 1, enriched_at = now(), metadata = $2, title = $3, brand = $4, manufacturer = $4,
         product_type = 'ITEM', size = 'One size', root_category = $5, category_tree = $6, category_tree_ids = $7 WHERE asin = $1`,
      [asin, JSON.stringify({ keepa: [product] }), title, brand, 1000 + k, tree.join(' > '), tree.map((_, i) => String(1000 + k * 10 + i)).join(' > ')],
    );
  }
}
