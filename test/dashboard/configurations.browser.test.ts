/**
 * In Chromium, as an administrator would: create a REX configuration through the form (a JSON
 * mistake first, shown with its line, the text kept), edit it, read the changes between versions,
 * and see it served.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';

describe('configurations page in a browser', () => {
  const server = useTestServer();
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('creates, corrects, edits and compares a configuration', async () => {
    const user = await createStaff(server.db.pool, 'ana', 'correct horse', true);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/configurations');
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // (the refused form is answered 400 on purpose, which Chromium reports on the console)
    page.on('console', (message) => { if (message.type() === 'error' && !message.text().includes('status of 400')) errors.push(message.text()); });
    await expect(page.locator('h1').textContent()).resolves.toBe('Configurations');
    await expect(page.locator('nav.top a[aria-current="page"]').textContent()).resolves.toBe('Configurations');

    await page.fill('input[name="name"]', 'wave-1');
    await page.fill('input[name="id_pattern"]', 'w1-[0-9]+');
    await page.fill('textarea[name="document"]', '{\n  "ui": [],\n  "passive_data_kit": {"endpoint": ""},\n}');
    await Promise.all([page.waitForLoadState('load'), page.click('button:text-is("Create configuration")')]);
    await expect(page.locator('.notice.error').textContent()).resolves.toMatch(/not valid JSON: .* \(line 4 column 1\)/);
    await expect(page.locator('textarea[name="document"]').inputValue()).resolves.toBe('{\n  "ui": [],\n  "passive_data_kit": {"endpoint": ""},\n}');

    await page.fill('textarea[name="document"]', '{\n  "ui": [],\n  "passive_data_kit": {"endpoint": ""}\n}');
    await Promise.all([page.waitForURL(/\/data\/configurations\/\d+\?done=config-created/), page.click('button:text-is("Create configuration")')]);
    await expect(page.locator('.notice').textContent()).resolves.toBe('Configuration wave-1 created.');

    await page.fill('input[name="order"]', '3');
    await page.fill('textarea[name="document"]', '{\n  "ui": [],\n  "passive_data_kit": {"endpoint": ""},\n  "history": {"enabled": true}\n}');
    await Promise.all([page.waitForURL(/done=config-saved/), page.click('button:text-is("Save as a new version")')]);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/version 2/);
    await Promise.all([page.waitForURL(/diff=2/), page.click('table.versions a:text-is("Show changes")')]);
    await expect(page.locator('#diff h2').textContent()).resolves.toBe('Version 2 against version 1');
    await expect(page.locator('pre.diff .added').allTextContents()).resolves.toContain('+   "history": {');
    await expect(page.locator('pre.diff .added').first().isVisible()).resolves.toBe(true);

    const served = await (await fetch(`${server.baseUrl}/data/app-config.json?id=w1-7`)).json();
    expect(served).toMatchObject({ history: { enabled: true }, passive_data_kit: { identifier: 'w1-7' } });
    await page.goto(`${server.baseUrl}/data/configurations`);
    await expect(page.locator('tr[data-configuration="wave-1"] td.num').last().textContent()).resolves.toBe('1');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
