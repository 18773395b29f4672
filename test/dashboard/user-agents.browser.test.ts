/**
 * In a real browser: a participant uploading from headless Chrome shows up flagged on
 * /data/user-agents once the source-statistics job has run; sorting is a click on a header.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { CHROME, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

describe('user agents page in a browser', () => {
  const server = useTestServer();
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('flags the HeadlessChrome source after the statistics job', async () => {
    const user = await createStaff(server.db.pool, 'bro', 'browser password', false);
    await postGzip(server, Array.from({ length: 6 }, (_, i) => pointAt('person-1', hoursAgo(i + 1), { userAgent: CHROME })));
    await postGzip(server, Array.from({ length: 3 }, (_, i) => pointAt('robot-1', hoursAgo(i + 1), { userAgent: HEADLESS })));
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);

    const page = await loggedInPage(browser, server.baseUrl, user, '/data/user-agents?sort=agent&dir=desc');
    await expect(page.locator('h1').textContent()).resolves.toBe('User agents');
    await expect(page.locator('.ua-summary').textContent()).resolves.toMatch(/2 user agents, 1 automated/);

    // Points, most first, is the default view: its link is the bare page.
    await Promise.all([page.waitForURL((url) => url.search === ''), page.click('table.user-agents th a:text-is("Points")')]);
    await expect(page.locator('table.user-agents th[aria-sort="descending"]').textContent()).resolves.toBe('Points');
    const rows = page.locator('table.user-agents tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    // Most points first: the person's browser, then the headless one, flagged.
    await expect(rows.nth(0).locator('td.ua .mono').textContent()).resolves.toBe(CHROME);
    await expect(rows.nth(0).locator('.flag').count()).resolves.toBe(0);
    const robot = rows.nth(1);
    await expect(robot.locator('td.ua .mono').textContent()).resolves.toBe(HEADLESS);
    await expect(robot.locator('.flag').textContent()).resolves.toBe('Automated');
    await expect(robot.locator('td.num').nth(1).textContent()).resolves.toBe('3');

    // Its sources fold out (no script: <details>), linked to the source page.
    await robot.locator('details.ua-sources summary').click();
    await expect(robot.locator('details.ua-sources a').getAttribute('href')).resolves.toBe('/data/source/robot-1');
    await expect(robot.locator('details.ua-sources a').isVisible()).resolves.toBe(true);
    // DCS_SCREENSHOTS=<folder>: keep a picture of the page, to look at how it reads.
    if (process.env.DCS_SCREENSHOTS) await page.screenshot({ path: `${process.env.DCS_SCREENSHOTS}/user-agents.png`, fullPage: true });

    // The filter, through the form.
    await page.check('input[name="automated"]');
    await Promise.all([page.waitForURL(/automated=1/), page.click('form.toolbar button[type="submit"]')]);
    await expect(page.locator('table.user-agents tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('table.user-agents tbody tr .flag').count()).resolves.toBe(1);
  });
});
