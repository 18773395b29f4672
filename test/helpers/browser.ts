/**
 * Headless Chromium for the dashboard's browser tests (*.browser.test.ts, run once in CI): the
 * Debian package `chromium`, driven by playwright-core. CHROMIUM_PATH overrides where it is.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A new page at 1400×900, logged in through the real login form, left on `next`. */
export async function loggedInPage(browser: Browser, baseUrl: string, user: { username: string; password: string }, next = '/data/'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${baseUrl}${next}`);
  expect(new URL(page.url()).pathname).toBe('/data/login');
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/data/login'), page.click('button[type="submit"]')]);
  return page;
}
