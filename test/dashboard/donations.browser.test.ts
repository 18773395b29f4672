/**
 * The Donations page in Chromium: a few participants' requests and files in every state, no
 * browser error (the page has no script; the CSP forbids inline style), the screenshot written to
 * DCS_SCREENSHOTS (docs/screenshots/donations.png) or a temporary folder, then an administrator
 * re-runs a refused import with the button and reads the notice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { hoursAgo, insertFile, insertRequest, openDonationSettings } from './donations-support.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshots-'));

describe('Donations page in a browser', () => {
  const server = useTestServer({ ...openDonationSettings(), TIME_ZONE: 'Europe/Berlin' });
  let browser: Browser;
  const admin = { username: 'ana', password: 'correct horse' };
  let refused = 0;

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    const pool = server.db.pool;
    await createStaff(pool, admin.username, admin.password, true);
    for (const source of ['40172630', '58113204', '31907745']) await pool.query('INSERT INTO data_sources (source, first_seen) VALUES ($1, now())', [source]);
    const a = await insertRequest(pool, '40172630', ['amazon', 'chatgpt'], hoursAgo(26 * 24));
    await insertFile(pool, a, { state: 'imported', name: 'Retail.OrderHistory.1.csv', size: 183_402, uploadedAt: hoursAgo(25 * 24), rowsExtracted: 214, rowsConfirmed: 209, points: 418 });
    refused = await insertFile(pool, a, {
      state: 'refused', source: 'chatgpt', name: 'chatgpt-export.zip', size: 9_812_114, uploadedAt: hoursAgo(3), chunks: 2,
      participantMessage: 'This file could not be imported yet. The study team has been told.', staffReason: 'PDK_EXTERNAL_CONTENT_PUBLIC_KEY is not set',
    });
    const b = await insertRequest(pool, '58113204', ['amazon'], hoursAgo(20 * 24));
    await insertFile(pool, b, { state: 'awaiting-confirmation', name: 'Items-2024.csv', size: 51_220, uploadedAt: hoursAgo(1), rowsExtracted: 37 });
    await insertFile(pool, b, {
      state: 'refused', name: 'Screenshot 2026-11-30.png', size: 402_118, uploadedAt: hoursAgo(2),
      participantMessage: 'This is a picture, not the order history file (a .csv). Please download the report again.', staffReason: 'not CSV: the content is a PNG image',
    });
    const c = await insertRequest(pool, '31907745', ['amazon'], hoursAgo(12 * 24));
    await insertFile(pool, c, { state: 'received', name: 'Retail.OrderHistory.2.csv', size: 96_003, uploadedAt: hoursAgo(0.1) });
    await insertFile(pool, c, { state: 'expired', name: 'Retail.OrderHistory.1.csv', size: 95_870, uploadedAt: hoursAgo(6 * 24), stateChangedAt: hoursAgo(3 * 24), rowsExtracted: 188 });
    await insertRequest(pool, '66021458', ['amazon'], hoursAgo(5));
    await pool.query(`UPDATE donation_sources SET instructions = $1 WHERE identifier = 'amazon'`, [
      'Sign in to amazon.com, open Account → Download order reports, choose the report type "Items" and the dates the study gave you.\n\nSave the CSV file and upload it here.',
    ]);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('renders without errors, and an administrator re-runs a refused import', async () => {
    const page = await loggedInPage(browser, server.baseUrl, admin, '/data/donations');
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.reload();
    expect(await page.textContent('h1')).toBe('Donations');
    expect(await page.locator('table.donations tr[data-file]').count()).toBe(6);
    await page.screenshot({ path: path.join(OUT, 'donations.png'), fullPage: true });
    expect(fs.statSync(path.join(OUT, 'donations.png')).size).toBeGreaterThan(10_000);

    await page.locator(`tr[data-file="${refused}"] button:text("Re-run import")`).click();
    await page.waitForSelector('.notice[role=status] >> text=queued again');
    expect(await page.locator(`tr[data-file="${refused}"] .donation-state`).textContent()).toBe('waiting for import');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
