/**
 * The data-quality flags in Chromium: the home page filtered to flagged sources and a flagged
 * source's Data quality panel, no browser error, the screenshots written to DCS_SCREENSHOTS
 * (docs/screenshots/data-quality-*.png) or a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataQualityJob } from '../../src/data-quality/data-quality.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { CHROME, daysAgo, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshots-'));
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

describe('data-quality flags in a browser', () => {
  const server = useTestServer();
  let browser: Browser;
  const admin = { username: 'ana', password: 'correct horse' };

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    await createStaff(server.db.pool, admin.username, admin.password, true);
    const day = (source: string, userAgent = CHROME) => Array.from({ length: 12 }, (_, i) => pointAt(source, hoursAgo(8 - i / 2), { userAgent }));
    await postGzip(server, day('40172630'));
    await postGzip(server, day('58113204', HEADLESS));
    await postGzip(server, [...day('31907745'), ...Array.from({ length: 8 }, (_, i) => pointAt('31907745', daysAgo(3 * 365 + i)))]);
    await postGzip(server, Array.from({ length: 12 }, (_, i) => pointAt('66021458', hoursAgo(3 - i / 30), { userAgent: i % 2 ? FIREFOX : CHROME })));
    await postGzip(server, day('dev-01'));
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    await runOk(server.db.pool, server.config, dataQualityJob);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the flagged sources and a source\'s evidence without errors', async () => {
    const page = await loggedInPage(browser, server.baseUrl, admin, '/data/?flag=any');
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.reload();
    expect(await page.locator('tr.source').count()).toBe(4);
    await page.locator('#sources').screenshot({ path: path.join(OUT, 'data-quality-home.png') });

    await page.goto(`${server.baseUrl}/data/source/31907745`);
    expect(await page.locator('#data-quality tr[data-flag="clock-skew"]').count()).toBe(1);
    await page.locator('#data-quality').screenshot({ path: path.join(OUT, 'data-quality-source.png') });
    for (const file of ['data-quality-home.png', 'data-quality-source.png']) expect(fs.statSync(path.join(OUT, file)).size).toBeGreaterThan(5_000);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
