/**
 * The participant's donation pages in headless Chromium, on a phone-sized screen, as a participant
 * uses them: the task list's link, the instructions, choosing a file, the review where a row is
 * unticked with the keyboard alone, and the confirmation. Each page renders with no browser error
 * (the pages' Content-Security-Policy allows nothing from elsewhere); screenshots go to
 * DCS_SCREENSHOTS (`npm run screenshots` writes docs/screenshots/) or a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, sealSecret } from '../../src/crypto/secretbox.ts';
import { runDonations } from '../../src/donations/donations.job.ts';
import { createLogger } from '../../src/log.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshots-'));
const LINK_KEY = generateSecretKey();
const FILES = nacl.box.keyPair();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const AMAZON_CSV = new URL('../fixtures/donations/amazon-consumer.csv', import.meta.url);

describe('the participant\'s donation pages in Chromium', () => {
  const server = useTestServer({
    PDK_EXTERNAL_CONTENT_SYMETRIC_KEY: LINK_KEY,
    DONATION_PUBLIC_KEY: b64(FILES.publicKey),
    DONATION_SECRET_KEY: b64(FILES.secretKey),
    DONATION_HASH_KEY: b64(crypto.randomBytes(32)),
    DONATION_SOURCES: 'amazon',
    TIME_ZONE: 'America/New_York',
  });
  let browser: Browser;
  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function phone(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    return { page, errors };
  }

  it('takes a participant from the link to sent rows, with a row left out by keyboard', async () => {
    const clear = `40917263:40917263:amazon:${JSON.stringify({ amazon_start: '01/01/2022' }, null, 2)}`;
    const auto = sealSecret(Buffer.from(clear), Buffer.from(LINK_KEY, 'base64')).toString('base64');
    const { page, errors } = await phone();

    await page.goto(`${server.baseUrl}/data/external/start?auto=${encodeURIComponent(auto)}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Donate your data');
    await page.screenshot({ path: path.join(OUT, 'donation-start.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/data\/external\/upload\/[0-9a-f]{64}$/), page.click('button[type="submit"]')]);
    const uploadUrl = page.url();

    await page.setInputFiles('input[name="amazon"]', AMAZON_CSV.pathname);
    await Promise.all([page.waitForURL(/done=uploaded/), page.click('button[type="submit"]')]);
    await expect(page.locator('p.notice').first().textContent()).resolves.toContain('File uploaded and saved successfully');
    await page.screenshot({ path: path.join(OUT, 'donation-uploaded.png'), fullPage: true });

    await runDonations({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, 20_000);
    await page.goto(uploadUrl);
    await Promise.all([page.waitForURL(/\/review\/\d+$/), page.click('text=Review and send')]);
    const boxes = page.locator('input[name="row"]');
    await expect(boxes.count()).resolves.toBe(3);
    // keyboard only: focus the second row's box and untick it with the space bar
    await boxes.nth(1).focus();
    await page.keyboard.press('Space');
    await expect(boxes.nth(1).isChecked()).resolves.toBe(false);
    await page.screenshot({ path: path.join(OUT, 'donation-review.png'), fullPage: true });
    await page.locator('button[value="send"]').focus();
    await Promise.all([page.waitForURL(/done=sent/), page.keyboard.press('Enter')]);
    await expect(page.locator('p.notice').first().textContent()).resolves.toContain('sent to the research team');
    await expect(page.locator('table.data tbody tr').first().textContent()).resolves.toContain('2 rows sent');
    await page.screenshot({ path: path.join(OUT, 'donation-sent.png'), fullPage: true });

    // nothing on the pages came from elsewhere or failed, and the page fits the phone's width
    expect(errors).toEqual([]);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await server.process();
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = '40917263' AND generator_id = 'pdk-external-amazon-item'`);
    expect(rows[0].n).toBe(2);
  }, 120_000);
});
