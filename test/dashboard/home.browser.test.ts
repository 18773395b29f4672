/** The home page in headless Chromium: log in, see sources and alerts, suppress an alert, rename a source. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { seedDemoStudy } from './demo-data.ts';

describe('home page in a browser', () => {
  const server = useTestServer();
  let browser: Browser;
  let user: { username: string; password: string };

  beforeAll(async () => {
    await seedDemoStudy(server);
    user = await createStaff(server.db.pool, 'ana', 'correct horse', false);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('logs in, shows the sources with their strips and the alerts, and suppresses one', async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    expect(new URL(page.url()).pathname).toBe('/data/');
    expect(await page.locator('tr.source').count()).toBe(20);
    expect(await page.locator('tr.group-row th').allTextContents()).toEqual(['Wave 1', 'Wave 2', 'Ungrouped sources']);
    // every row has its 14 strip cells, drawn at a visible size
    const strip = page.locator('tr.source[data-source="P0001"] svg.strip');
    expect(await strip.locator('rect').count()).toBe(14);
    const box = await strip.boundingBox();
    expect(box!.width).toBeGreaterThan(100);

    const alert = page.locator('tr.alert[data-source="P0019"]');
    expect((await alert.locator('.level').textContent())?.trim()).toBe('Warning');
    expect(await alert.textContent()).toContain('HeadlessChrome');
    await Promise.all([page.waitForURL(/done=suppressed/), alert.locator('button', { hasText: 'Suppress' }).click()]);
    expect((await page.locator('p.notice').textContent())?.trim()).toBe('Alerts of P0019 suppressed.');
    expect(await page.locator('tr.alert[data-source="P0019"]').count()).toBe(0);
    expect(await page.locator('tr.source[data-source="P0019"]').textContent()).toContain('suppressed');
    await page.context().close();
  });

  it('renames a source from its Edit menu and sorts by latest point', async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    const row = page.locator('tr.source[data-source="P0002"]');
    await row.locator('summary', { hasText: 'Edit' }).click();
    await row.locator('form[action="/data/sources/rename"] input[name="name"]').fill('Ana B.');
    await Promise.all([page.waitForURL(/done=renamed/), row.locator('button', { hasText: 'Rename' }).click()]);
    expect((await page.locator('tr.source[data-source="P0002"] td').nth(1).textContent())?.trim()).toBe('Ana B.');

    await Promise.all([page.waitForURL(/sort=latest/), page.locator('th a', { hasText: 'Latest point' }).click()]);
    // newest first within each group: the first Wave 1 row has the most recent point
    const ages = await page.locator('tr.source td:nth-child(3)').allTextContents();
    expect(ages.at(-1)).toBe('never');
    await page.context().close();
  });

  it('opens a source page from the list, with both charts drawn and its points as JSON', async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    await Promise.all([page.waitForURL(/\/data\/source\/P0003$/), page.locator('tr.source[data-source="P0003"] a', { hasText: 'P0003' }).click()]);
    for (const chart of ['svg.chart-created', 'svg.chart-recorded']) {
      expect(await page.locator(`${chart} rect.bar`).count()).toBeGreaterThan(0);
      const box = await page.locator(chart).boundingBox();
      expect(box!.width).toBeGreaterThan(600);
      expect(box!.height).toBeGreaterThan(80);
    }
    expect(await page.locator('table.types tbody tr').count()).toBe(4);
    const type = page.locator('table.types tr[data-type="webmunk-history-visit"] a');
    await Promise.all([page.waitForURL(/type=webmunk-history-visit/), type.click()]);
    expect(await page.locator('#points h2').textContent()).toContain('Latest points');
    const json = JSON.parse((await page.locator('pre.json').first().textContent())!);
    expect(json['passive-data-metadata']['generator-id']).toBe('webmunk-history-visit');
    expect(json['passive-data-metadata'].source).toBe('P0003');
    await page.context().close();
  });

  it('moves a source with Enter in its group field, then suppresses and removes it from the same Edit panel', async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    const row = () => page.locator('tr.source[data-source="P0005"]');
    await row().locator('summary', { hasText: 'Edit' }).click();
    await row().locator('input[name="new_group"]').fill('Wave 2');
    await Promise.all([page.waitForURL(/done=moved/), row().locator('input[name="new_group"]').press('Enter')]);
    const wave2 = await page.locator('tr.group-row, tr.source').evaluateAll((rows) => {
      let group = '';
      return rows.flatMap((r) => (r.classList.contains('group-row') ? ((group = r.textContent!.trim()), []) : [[group, r.getAttribute('data-source')]]));
    });
    expect(wave2).toContainEqual(['Wave 2', 'P0005']);

    await row().locator('summary', { hasText: 'Edit' }).click();
    await Promise.all([page.waitForURL(/done=suppressed/), row().locator('button', { hasText: 'Suppress alerts' }).click()]);
    expect(await row().locator('td').nth(8).textContent()).toContain('suppressed');

    await row().locator('summary', { hasText: 'Edit' }).click();
    await Promise.all([page.waitForURL(/done=removed/), row().locator('button', { hasText: 'Remove from dashboard' }).click()]);
    expect(await row().count()).toBe(0);
    await page.context().close();
  });
});
