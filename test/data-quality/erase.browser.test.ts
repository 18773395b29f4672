/** Erasure in a real browser: the source page's panel, the confirm step, the erased page and re-admission. */
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { extensionPoint, uploadPoints } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';

describe('erasure in the browser', () => {
  const server = useTestServer();
  let browser: Browser;
  const shots = process.env.SCREENSHOT_DIR ?? os.tmpdir();

  beforeAll(async () => {
    browser = await launchBrowser();
    await createStaff(server.db.pool, 'ana', 'correct horse', true);
    await uploadPoints(server.baseUrl, [extensionPoint('P-0042', 'webmunk-page-visit', 1_780_000_000)]);
    await server.process();
  });
  afterAll(async () => browser?.close());

  it('erases after the identifier is typed again, then re-admits', async () => {
    const page = await loggedInPage(browser, server.baseUrl, { username: 'ana', password: 'correct horse' }, '/data/source/P-0042');
    const panel = page.locator('#erasure');
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: path.join(shots, 'erasure-panel.png') });
    // the browser itself refuses an empty confirmation (required)
    await page.click('#erasure button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe('/data/source/P-0042');
    await page.fill('#erasure input[name="confirm"]', 'P-0042');
    await Promise.all([page.waitForURL(/done=erased/), page.click('#erasure button[type="submit"]')]);
    expect(await page.textContent('h1')).toContain('P-0042');
    expect(await page.textContent('#erasure')).toContain('Erased');
    await page.screenshot({ path: path.join(shots, 'erased-source.png'), fullPage: true });
    await Promise.all([page.waitForURL(/done=readmitted/), page.click('text=Re-admit P-0042')]);
    expect(await page.textContent('main')).toContain('P-0042 re-admitted');
    expect(await page.textContent('#erasure')).toContain('re-admitted');
  });
});
