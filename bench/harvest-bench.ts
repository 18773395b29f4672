/**
 * `npm run bench -- harvest`: the ASIN harvest's scan rate on HTML-bearing points.
 *
 * `dcs start` on a fresh embedded PostgreSQL (scheduled jobs off); BENCH_HARVEST_POINTS (default
 * 300,000) points of 500 sources written by SQL from the real samples, each with its own ASINs:
 * 40% element-show/hide (~700 B of product-tile HTML), 20% log-elements (5 matches), 15%
 * class-added, 10% matched-rule (a URL only), 10% element-click with a 30 KB page in
 * `page-content*` (24 product tiles; BENCH_HARVEST_CLICKS sets the share), 5% orders.
 * BENCH_HARVEST_PRODUCTS (default 20,000) result pages of 24 products each make the catalogue, and
 * every point is queued for the harvest (harvest_queue), as processing queues it. Then `dcs run-job asin-harvest`, timed by the job
 * itself. Target: >= 20,000 points/s scanned (the original: 318).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { harvestMix } from './harvest-points.ts';
import { cpuSeconds, rssMb, startBenchServer, stop } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const POINTS = Number(process.env.BENCH_HARVEST_POINTS ?? 300_000);
const PRODUCT_PAGES = Number(process.env.BENCH_HARVEST_PRODUCTS ?? 20_000);
async function seed(db: pg.Client): Promise<void> {
  // BENCH_HARVEST_CLICKS: the share of clicks (whole pages), default 0.1; the rest keep their proportions.
  const mix = harvestMix(Number(process.env.BENCH_HARVEST_CLICKS ?? 0.1));
  let offset = 0;
  for (const [template, share] of mix) {
    const count = Math.round(POINTS * share);
    // Participants see the same products again and again: BENCH_HARVEST_PRODUCTS (default 20,000)
    // pages of products, each ASIN B + 7 hex digits of the page + 2 of the tile.
    const text = JSON.stringify(template);
    await db.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT 'P' || lpad((i % 500)::text, 4, '0'), $3, $3, 'Chrome', now() - make_interval(secs => i), 'timestamp', now(), 0, md5(i::text)::uuid,
              replace($4, 'ASINXXXX', 'B' || upper(lpad(to_hex(i % $5), 7, '0')))::jsonb
       FROM generate_series($1::bigint, $2::bigint - 1) i`,
      [offset, offset + count, template.generatorId, text, PRODUCT_PAGES],
    );
    offset += count;
    process.stdout.write(`\r  seeded ${offset.toLocaleString('en')} / ${POINTS.toLocaleString('en')}   `);
  }
  process.stdout.write('\n');
  // What processing does as it stores them: every point of these types into the harvest's outbox.
  await db.query('INSERT INTO harvest_queue (source, created, content_digest) SELECT source, created, content_digest FROM data_points ORDER BY id');
  await db.query('VACUUM ANALYZE data_points, harvest_queue');
}

export async function benchHarvest(): Promise<void> {
  const dataDir = path.join(ROOT, '.bench', 'harvest-data');
  const { env, server, db } = await startBenchServer(ROOT, dataDir, {});
  try {
    await seed(db);
    // BENCH_NODE_ARGS adds flags to the job's process (e.g. --cpu-prof), as in bench/dcs-runs.ts.
    const nodeArgs = ['--max-semi-space-size=4', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'dcs.js'), 'run-job', 'asin-harvest'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // CPU: the job's (sampled until it exits) and PostgreSQL's (all backends), as where the time goes
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const postgresBefore = cpuSeconds(postmaster, true);
    let peak = 0;
    let jobCpu = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(child.pid!));
      jobCpu = Math.max(jobCpu, cpuSeconds(child.pid!));
    }, 50);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const code = await new Promise((resolve) => child.once('close', resolve));
    clearInterval(sampler);
    const postgresCpu = cpuSeconds(postmaster, true) - postgresBefore;
    if (code !== 0) throw new Error(`asin-harvest failed: ${out}`);
    const seconds = Number(/succeeded in ([\d.]+) s/.exec(out)?.[1]);
    const { rows } = await db.query('SELECT (SELECT count(*) FROM amazon_products)::int AS products, (SELECT sum(points) FROM amazon_product_sightings)::int AS pairs, points_scanned::int FROM amazon_harvest_state');
    await db.end();
    console.log(`\n${out.trim()}\n`);
    console.log('| case | time (job) | points/s | peak RSS | products | (product, point) pairs | CPU: job, PostgreSQL |\n| --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| asin-harvest, ${rows[0].points_scanned.toLocaleString('en')} HTML-bearing points | ${seconds.toFixed(1)} s | ${Math.round(rows[0].points_scanned / seconds).toLocaleString('en')} | ${peak.toFixed(0)} MB | ${rows[0].products.toLocaleString('en')} | ${rows[0].pairs.toLocaleString('en')} | ${jobCpu.toFixed(1)} s, ${postgresCpu.toFixed(1)} s |`);
  } finally {
    await stop(server);
  }
}
