/**
 * The API tokens page in Chromium: an administrator creates a token, sees it once, the token works
 * against the API, the list never shows it again, revoking it stops it; staff may only look.
 * The screenshot goes to DCS_SCREENSHOTS (docs/screenshots/api-tokens.png) or a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { pdkPost } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';

const OUT = process.env.DCS_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-screenshots-'));

describe('API tokens page', () => {
  const server = useTestServer({ TIME_ZONE: 'Europe/Berlin' });
  let browser: Browser;
  const admin = { username: 'ana', password: 'correct horse' };

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    await createStaff(server.db.pool, admin.username, admin.password, true);
    await createStaff(server.db.pool, 'bo', 'battery staple', false);
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('48213077', now())`);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('creates a token shown once, that works until it is revoked', async () => {
    const page = await loggedInPage(browser, server.baseUrl, admin, '/data/api-tokens');
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.fill('input[name=name]', 'enrollment-server');
    await page.fill('input[name=expires]', '365');
    await page.click('button:text("Create token")');
    const token = (await page.textContent('pre.token'))!.trim();
    expect(token).toMatch(/^[A-Za-z0-9]{64}$/);
    // the form's reply is the page itself: the token never went into a URL
    expect(page.url()).toBe(`${server.baseUrl}/data/api-tokens`);
    await page.fill('input[name=name]', 'analyst-laptop');
    await page.selectOption('select[name=scope]', 'read');
    const secondReply = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button:text("Create token")');
    await secondReply;
    await page.screenshot({ path: path.join(OUT, 'api-tokens.png'), fullPage: true });
    expect(fs.statSync(path.join(OUT, 'api-tokens.png')).size).toBeGreaterThan(10_000);

    const call = () => pdkPost(server.baseUrl, '/api/data-sources.json', { token });
    expect((await call()).status).toBe(200);

    await page.goto(`${server.baseUrl}/data/api-tokens`);
    const listed = await page.content();
    expect(listed).not.toContain(token);
    expect(listed).toContain(`${token.slice(0, 6)}…`);
    const row = page.locator('tr', { hasText: 'enrollment-server' });
    await expect(row.textContent()).resolves.toMatch(/read-write.*live, expires/s);
    await row.locator('button:text("Revoke")').click();
    await page.waitForSelector('.notice');
    expect(await page.textContent('.notice')).toMatch(/API token enrollment-server revoked/);
    expect((await call()).status).toBe(401);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('lets staff see the list, not create or revoke', async () => {
    const staff = await logIn(server.baseUrl, 'bo', 'battery staple');
    const page = await fetch(`${server.baseUrl}/data/api-tokens`, { headers: { cookie: staff.cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('analyst-laptop');
    expect(text).not.toContain('Create token');
    const post = await fetch(`${server.baseUrl}/data/api-tokens`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: staff.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ _csrf: staff.csrf, name: 'mine' }).toString(),
    });
    expect(post.status).toBe(403);
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM api_tokens WHERE name = 'mine'`);
    expect(rows[0].n).toBe(0);
  });
});
