/**
 * Every dashboard page, opened as a study team member would, on the demo study: each renders with
 * no browser error, and its screenshot is written to DCS_SCREENSHOTS (`npm run screenshots`
 * writes docs/screenshots/, the pictures in the README) or a temporary folder.
 */
import { asinHarvestJob } from '../../src/amazon/asin-harvest.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { runOk } from '../monitoring/support.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRule, editRule, setRuleEnabled } from '../../src/data-quality/exclusion-rules.repository.ts';
import { reportJobsJob } from '../../src/exports/report-jobs.job.ts';
import { requestExport } from '../../src/exports/request-export.ts';
import { createLogger } from '../../src/log.ts';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { putConfiguration, rexDocument } from '../app-config/support.ts';
import { seedDemoProducts, seedDemoStudy } from './demo-data.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshots-'));

describe('dashboard screenshots', () => {
  const server = useTestServer({ TIME_ZONE: 'Europe/Berlin', EXPORT_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshot-exports-')) });
  let browser: Browser;
  let user: { username: string; password: string };

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    await seedDemoStudy(server);
    user = await createStaff(server.db.pool, 'ana', 'correct horse');
    // The Export page with a finished export, a failed nightly one and a queued one.
    const ask = { requestedBy: 'ana', types: ['webmunk-extension-element-show', 'webmunk-history-visit'], selection: { groups: ['Wave 1'] }, dateType: 'created', format: 'tsv', destinations: ['folder'] };
    await requestExport(server.db.pool, ask);
    await reportJobsJob.run({ pool: server.db.pool, config: server.config, log: createLogger('silent') });
    const failed = await requestExport(server.db.pool, { ...ask, requestedBy: 'nightly', selection: { all: true }, dateType: 'recorded', destinations: ['folder', 's3'] });
    await server.db.pool.query(`UPDATE report_jobs SET state = 'failed', error = 'S3 upload of export_2.zip to s3://study-exports/2026-12-02/export_2.zip failed after 5 attempts: getaddrinfo ENOTFOUND', started_at = now() - interval '3 minutes', finished_at = now() WHERE id = $1`, [failed.id]);
    await requestExport(server.db.pool, { ...ask, format: 'parquet', selection: { all: true } });
    await seedDemoProducts(server);
    // REX configurations: two study arms, a pilot configuration edited once, and who was served what.
    await putConfiguration(server.db.pool, { name: 'pilot', idPattern: 'P001[5-9]', order: 1, document: rexDocument('pilot') }, 'ana');
    await putConfiguration(server.db.pool, { name: 'pilot', idPattern: 'P001[5-9]', order: 1, document: rexDocument('pilot', { history: { enabled: true, retention_days: 30 } }) }, 'ana');
    await putConfiguration(server.db.pool, { name: 'control', idPattern: 'P[0-9]{4}', order: 2, weight: 1 }, 'ana');
    await putConfiguration(server.db.pool, { name: 'treatment', idPattern: 'P[0-9]{4}', order: 3, weight: 1, document: rexDocument('treatment', { page_manipulation: { hide: ['.sponsored'] } }) }, 'ana');
    await putConfiguration(server.db.pool, { name: 'wave-2-draft', idPattern: 'W2-[0-9]{4}', order: 4, enabled: false }, 'bo');
    for (let i = 1; i <= 19; i++) await fetch(`${server.baseUrl}/data/app-config.json?id=P${String(i).padStart(4, '0')}`);
    // Exclusion rules: the team's test install, automated browsers (edited once), one removed
    await addRule(server.db.pool, { source: 'P0019', reason: 'the team\'s test install (Ana\'s laptop)' }, 'ana');
    const bots = await addRule(server.db.pool, { userAgentPattern: 'HeadlessChrome', reason: 'headless Chrome, not a participant' }, 'ana');
    await editRule(server.db.pool, bots, { userAgentPattern: 'HeadlessChrome|Puppeteer', reason: 'automated browsers, not participants' }, 'bo');
    const removed = await addRule(server.db.pool, { generatorId: 'webmunk-extension-scroll-position', createdTo: new Date('2026-11-15T00:00:00Z'), reason: 'scroll positions were wrong before 2.3.1' }, 'bo');
    await setRuleEnabled(server.db.pool, removed, false, 'ana');
    // the statistics, alerts and products' counts as their jobs leave them after the rules changed
    for (const job of [sourceStatisticsJob, statusChecksJob, asinHarvestJob]) await runOk(server.db.pool, server.config, job);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  const pages: Array<[string, string, string]> = [
    ['home', '/data/', 'h1'],
    ['source', '/data/source/P0003', 'svg.chart'],
    ['system-health', '/data/system-health', 'h1'],
    ['user-agents', '/data/user-agents', 'h1'],
    ['export', '/data/export', 'table.export-jobs'],
    ['products', '/data/products', 'h1'],
    ['product', '/data/products/B0BXYZ1234', 'h1'],
    ['configurations', '/data/configurations', 'table.configurations'],
    // the first configuration saved (pilot), at its second version's changes
    ['configuration', '/data/configurations/1?diff=2', 'pre.diff'],
    ['data-quality', '/data/data-quality', 'h1'],
    // the automated-browsers rule in the edit form
    ['data-quality-edit', '/data/data-quality?edit=2', '#rule-form'],
  ];
  for (const [name, url, selector] of pages) {
    it(`renders ${url}`, async () => {
      const page = await loggedInPage(browser, server.baseUrl, user, url);
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      await page.reload();
      await page.waitForSelector(selector);
      expect(errors).toEqual([]);
      await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Math.min(1900, await page.evaluate(() => document.documentElement.scrollHeight)) } });
      expect(fs.statSync(path.join(OUT, `${name}.png`)).size).toBeGreaterThan(10_000);
      await page.context().close();
    }, 60_000);
  }
});
