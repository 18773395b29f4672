/**
 * Every dashboard page in headless Chromium under its Content-Security-Policy: the policy is sent
 * with each page, and the browser reports no violation on any of them (an inline style, a script
 * or an outside resource would be refused, and Chromium says so on the console). Screenshots of
 * the login, notice and error pages go to DCS_SCREENSHOTS or a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { seedDemoProducts, seedDemoStudy } from './demo-data.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-csp-'));

/**
 * What goes wrong on `page` from now on: script errors, CSP violations (Chromium writes them to
 * the console: "Refused to apply inline style because it violates … Content Security Policy"),
 * and any request that fails or is blocked. The 4xx of an error page itself is not a problem.
 */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('requestfailed', (request) => problems.push(`${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) problems.push(`${response.url()}: ${response.status()}`);
  });
  return problems;
}

function expectPolicy(response: Response | null, url: string) {
  expect(response, url).not.toBeNull();
  expect(response!.headers()['content-security-policy'], url).toContain("default-src 'none'");
  expect(response!.headers()['x-frame-options'], url).toBe('DENY');
}

describe('dashboard pages under the Content-Security-Policy', () => {
  const server = useTestServer({ TIME_ZONE: 'Europe/Berlin' });
  let browser: Browser;
  let user: { username: string; password: string };

  beforeAll(async () => {
    await seedDemoStudy(server);
    await seedDemoProducts(server);
    user = await createStaff(server.db.pool, 'ana', 'correct horse');
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the login page without a violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    const response = await page.goto(`${server.baseUrl}/data/login`);
    expectPolicy(response, '/data/login');
    await page.waitForSelector('form[action="/data/login"]');
    // The stylesheet applied: the form is laid out, not the browser's default.
    expect(await page.locator('section.login-box').evaluate((el) => getComputedStyle(el).maxWidth)).not.toBe('none');
    await page.screenshot({ path: path.join(OUT, 'login.png') });
    expect(problems).toEqual([]);
    await context.close();
  });

  const pages = ['/data/', '/data/?sort=latest&dir=desc', '/data/source/P0003', '/data/system-health', '/data/user-agents', '/data/user-agents?automated=1',
    '/data/export', '/data/products', '/data/products/B0BXYZ1234', '/data/source/nobody-here', '/data/products/NOTANASIN0'];
  it(`shows ${pages.length} pages without a violation`, async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    const problems = watch(page);
    for (const url of pages) {
      const response = await page.goto(`${server.baseUrl}${url}`);
      expectPolicy(response, url);
      await page.waitForSelector('h1');
      // Expand every <details> (Edit menus, user agents' sources), so what they hold is rendered too.
      await page.locator('details').evaluateAll((all) => all.forEach((d) => d.setAttribute('open', '')));
      expect(problems, url).toEqual([]);
    }
    await page.context().close();
  }, 120_000);

  it('shows a notice after an action, and errors as pages, without a violation', async () => {
    const page = await loggedInPage(browser, server.baseUrl, user);
    const problems = watch(page);
    await page.fill('form[action="/data/groups/add"] input[name="name"]', 'Wave 3');
    await Promise.all([page.waitForURL(/done=group-added/), page.click('form[action="/data/groups/add"] button')]);
    expect((await page.locator('p.notice').textContent())?.trim()).toBe('Group Wave 3 created.');
    await page.screenshot({ path: path.join(OUT, 'notice.png'), clip: { x: 0, y: 0, width: 1400, height: 400 } });

    const notFound = await page.goto(`${server.baseUrl}/data/no-such-page`);
    expectPolicy(notFound, '404');
    expect(notFound!.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Not Found');
    await page.screenshot({ path: path.join(OUT, 'not-found.png') });

    // A form whose CSRF token went stale: the error page, in the dashboard, with a way back.
    await page.goto(`${server.baseUrl}/data/`);
    await page.locator('form[action="/data/groups/add"] input[name="_csrf"]').evaluate((input) => { (input as HTMLInputElement).value = 'stale'; });
    await page.fill('form[action="/data/groups/add"] input[name="name"]', 'Wave 4');
    const [stale] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/data/groups/add')), page.click('form[action="/data/groups/add"] button')]);
    expect(stale.status()).toBe(403);
    await page.waitForSelector('p.notice.error');
    expect(await page.locator('p.notice.error').textContent()).toContain('reload the page and try again');
    expect(await page.locator('a', { hasText: 'Back to the previous page' }).getAttribute('href')).toBe('/data/');
    await page.screenshot({ path: path.join(OUT, 'csrf-error.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
