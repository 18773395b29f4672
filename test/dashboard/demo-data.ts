/**
 * A small study for the screenshots and browser tests: two waves of participants with names,
 * 14 days of real-format points of four types, each built from its own sample with its own fields
 * varied (test/helpers/study-points.ts): some participants stopped a few days ago, one never
 * started, one is a bot; an extension reporting a backlog, an errored bundle, and a day of
 * server-health snapshots. Uploaded over HTTP and processed for real; only the older snapshots are
 * written by SQL (the job takes one every 15 minutes, and a screenshot cannot wait a day).
 */
import { gzipSync } from 'node:zlib';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import type { TestServer } from '../helpers/server.ts';
import { productItem, seededRandom, STUDY_PRODUCTS, studyPoint } from '../helpers/study-points.ts';
import { CHROME, HEADLESS, hoursAgo, runOk } from '../monitoring/support.ts';

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

export async function seedDemoStudy(server: TestServer): Promise<void> {
  const pool = server.db.pool;
  const next = seededRandom(7);
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
        points.push(studyPoint(TYPES[Math.floor(next() * TYPES.length)], { source: p.id, created, userAgent: p.agent, random: next }));
      }
    }
    for (let i = 0; i < points.length; i += 500) await upload(server, points.slice(i, i + 500));
  }
  // The extension of P0004 reports 12,480 points waiting (a client backlog).
  await upload(server, [studyPoint('pdk-system-status', { source: 'P0004', created: hoursAgo(0.5), userAgent: CHROME, random: next }, { 'pending-points': 12_480 })]);
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

/** What Keepa says of the study's products: brand and category path (all but the last enriched). */
const KEEPA: Record<string, { brand: string; tree: string[] }> = {
  B0BXYZ1234: { brand: 'Anker', tree: ['Electronics', 'Accessories & Supplies', 'Chargers & Adapters'] },
  B08L5TNJHG: { brand: 'Amazon', tree: ['Amazon Devices & Accessories', 'Amazon Devices', 'Echo Smart Speakers'] },
  B07FZ8S74R: { brand: 'Amazon', tree: ['Amazon Devices & Accessories', 'Amazon Devices'] },
  B0C1H26C46: { brand: 'STANLEY', tree: ['Home & Kitchen', 'Kitchen & Dining', 'Travel & To-Go Drinkware'] },
};

/**
 * The Products pages' data: more sightings of the study's products by the demo participants, an
 * order by P0003, the harvest, Keepa data for all but one product (still pending), and the
 * statistics brought up to date with them.
 */
export async function seedDemoProducts(server: TestServer): Promise<void> {
  const { harvestAsins } = await import('../../src/amazon/harvest.ts');
  const next = seededRandom(11);
  const points = [];
  for (let i = 1; i <= 12; i++) {
    const source = `P${String(i).padStart(4, '0')}`;
    for (const [k, product] of STUDY_PRODUCTS.entries()) {
      if ((i + k) % 3 === 0) continue;
      const show = studyPoint('webmunk-extension-element-show', { source, created: hoursAgo(i * 7 + k), userAgent: CHROME, random: next });
      show['element-content*'] = productItem(product, String(show['element-id']), 1 + k);
      points.push(show);
    }
  }
  points.push(studyPoint('webmunk-amazon-order', { source: 'P0003', created: hoursAgo(20), userAgent: FIREFOX, random: next }));
  await upload(server, points);
  await server.process();
  await harvestAsins(server.db.pool, server.config);
  const minutes = (daysAgo: number) => Math.round((Date.now() - daysAgo * 86_400_000) / 60_000) - 21_564_000;
  for (const [k, { asin, title }] of STUDY_PRODUCTS.entries()) {
    const keepa = KEEPA[asin];
    if (!keepa) continue; // one still pending
    const { brand, tree } = keepa;
    const base = [1599, 2499, 2299, 4500, 2899][k];
    const csv = [[minutes(90), base, minutes(60), base - 300, minutes(45), -1, minutes(30), base - 100, minutes(8), base - 500, minutes(2), base]];
    const product = { asin, title, brand, manufacturer: brand, type: 'ITEM', size: 'One size', rootCategory: 1000 + k, categoryTree: tree.map((name, i) => ({ catId: 1000 + k * 10 + i, name })), csv };
    await server.db.pool.query(
      `UPDATE amazon_products SET keepa_state = 'enriched', keepa_attempts = 1, enriched_at = now(), metadata = $2, title = $3, brand = $4, manufacturer = $4,
         product_type = 'ITEM', size = 'One size', root_category = $5, category_tree = $6, category_tree_ids = $7 WHERE asin = $1`,
      [asin, JSON.stringify({ keepa: [product] }), title, brand, 1000 + k, tree.join(' > '), tree.map((_, i) => String(1000 + k * 10 + i)).join(' > ')],
    );
  }
  await runOk(server.db.pool, server.config, sourceStatisticsJob);
}
