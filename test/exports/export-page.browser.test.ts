/**
 * The Export page in headless Chromium: data types with labels and point counts, a request by
 * group that the report-jobs job turns into an archive, the download (login only), a refused
 * request that keeps what was entered, the retry of a failed job, and the re-run of a done one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getReportJob, listReportJobs } from '../../src/exports/report-jobs.repository.ts';
import { reportJobsJob } from '../../src/exports/report-jobs.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';
import { runOk } from '../monitoring/support.ts';
import { readZip, tempDir, tsvRows, uploadPoints } from './support.ts';

describe('the Export page in a browser', () => {
  const server = useTestServer({ EXPORT_DIR: tempDir() });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    const points = samples(0, 2, 3, 7);
    const other = samples(2, 2);
    for (const p of other) p['passive-data-metadata']!.source = 'P-other';
    other[1]['passive-data-metadata']!.timestamp = 1694706199.5;
    await uploadPoints(server, [...points, ...other]);
    await server.db.pool.query(`INSERT INTO source_groups (name) VALUES ('Wave 1')`);
    await server.db.pool.query(`UPDATE data_sources SET group_id = (SELECT id FROM source_groups WHERE name = 'Wave 1') WHERE source = 'P-other'`);
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('queues an export of a group, lists it done with size and downloads the archive', async () => {
    const user = await createStaff(server.db.pool, 'eva', 'export password', false);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/export');
    await expect(page.locator('h1').textContent()).resolves.toBe('Export');
    const show = page.locator('label.type-choice', { has: page.locator('input[value="webmunk-extension-element-show"]') });
    await expect(show.textContent()).resolves.toMatch(/Webmunk: Element Visible Events\s+webmunk-extension-element-show\s+3 points/);
    const visibility = page.locator('label.type-choice', { has: page.locator('input[value="webmunk-visibility-export"]') });
    await expect(visibility.textContent()).resolves.toMatch(/Element Hide & Show Events.*4 points/s);

    await page.check('input[name="selection"][value="groups"]');
    await page.check('input[name="group"][value="Wave 1"]');
    await show.locator('input').check();
    await page.selectOption('select[name="format"]', 'tsv');
    await Promise.all([page.waitForURL(/done=export-queued/), page.click('button:text("Queue export")')]);
    await expect(page.locator('.notice').textContent()).resolves.toMatch(/Export job \d+ queued/);
    await expect(page.locator('table.export-jobs tbody tr').first().textContent()).resolves.toMatch(/Wave 1 \(1 source\).*queued/s);

    await runOk(server.db.pool, server.config, reportJobsJob);
    await page.reload();
    const row = page.locator('table.export-jobs tbody tr').first();
    await expect(row.textContent()).resolves.toMatch(/done\s*2 points/);
    await expect(row.locator('td.num').nth(1).textContent()).resolves.toMatch(/\d+(\.\d)? (B|KB)/);

    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a[download]').click()]);
    expect(download.suggestedFilename()).toMatch(/^export_\d+_\d{4}-\d{2}-\d{2}\.zip$/);
    const file = `${tempDir()}/download.zip`;
    await download.saveAs(file);
    const entries = await readZip(file);
    const rows = tsvRows(entries.find((e) => e.name === 'webmunk-extension-element-show.txt')!.data);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ['P-other', '2023-09-14T11:43:19.500000-04:00'],
      ['P-other', '2023-09-14T11:43:11.027000-04:00'],
    ]);
    expect(fs.statSync(file).size).toBeGreaterThan(0);

    // Without a login the archive is not reachable.
    const href = await row.locator('a[download]').getAttribute('href');
    const anonymous = await fetch(`${server.baseUrl}${href}`, { redirect: 'manual' });
    expect([302, 303, 401]).toContain(anonymous.status);
    if (process.env.DCS_EXPORT_SCREENSHOT) await page.screenshot({ path: process.env.DCS_EXPORT_SCREENSHOT, fullPage: true });
  });

  it('refuses a request without types, keeping the choices', async () => {
    const user = await createStaff(server.db.pool, 'ivo', 'another password', false);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/export');
    await page.check('input[name="selection"][value="sources"]');
    await page.fill('textarea[name="sources"]', '48213077\nP-other');
    await page.fill('input[name="from"]', '2023-09-01');
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button:text("Queue export")')]);
    expect(response.status()).toBe(400);
    await expect(page.locator('.notice.error').textContent()).resolves.toBe('Choose one or more data types to export.');
    await expect(page.inputValue('textarea[name="sources"]')).resolves.toBe('48213077\nP-other');
    await expect(page.inputValue('input[name="from"]')).resolves.toBe('2023-09-01');
    await expect(page.isChecked('input[name="selection"][value="sources"]')).resolves.toBe(true);

    await page.check('input[value="webmunk-extension-action"]');
    await page.fill('textarea[name="sources"]', 'nobody-here');
    await page.click('button:text("Queue export")');
    await expect(page.locator('.notice.error').textContent()).resolves.toBe('No data from source(s) nobody-here.');
  });

  it('retries a failed job from its row', async () => {
    const { rows } = await server.db.pool.query(
      `INSERT INTO report_jobs (requested_by, selection, sources, types, date_type, format, name_prefix, destinations, state, error, finished_at)
       VALUES ('eva', '{"all":true}', '{48213077}', '{webmunk-extension-action}', 'created', 'tsv', 'export', '{folder}', 'failed', 'disk full', now()) RETURNING id`,
    );
    const user = await createStaff(server.db.pool, 'una', 'third password', false);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/export');
    const row = page.locator('table.export-jobs tbody tr', { has: page.locator(`td.num:text-is("${rows[0].id}")`) });
    await expect(row.textContent()).resolves.toMatch(/failed/);
    await row.locator('summary').click();
    await expect(row.locator('pre.error-text').textContent()).resolves.toBe('disk full');
    await Promise.all([page.waitForURL(/done=export-retried/), row.locator('button:text("Retry")').click()]);
    await runOk(server.db.pool, server.config, reportJobsJob);
    await page.reload();
    await expect(page.locator('table.export-jobs tbody tr', { has: page.locator(`td.num:text-is("${rows[0].id}")`) }).textContent()).resolves.toMatch(/done\s*1 point\b/);
  });

  it('re-runs a done job from its row as a new job linked to it, whose archive has the same bytes', async () => {
    const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const { rows } = await server.db.pool.query(
      `INSERT INTO report_jobs (requested_by, selection, sources, types, date_type, format, name_prefix, destinations, date_from, date_to)
       VALUES ('eva', '{"groups":["Wave 1"]}', '{P-other}', '{webmunk-extension-element-show,webmunk-extension-action}', 'created', 'tsv', 'export', '{folder}', '2023-09-01', '2023-09-30') RETURNING id`,
    );
    const originalId = Number(rows[0].id);
    await runOk(server.db.pool, server.config, reportJobsJob);
    const original = (await getReportJob(server.db.pool, originalId))!;
    expect(original.state).toBe('done');

    const user = await createStaff(server.db.pool, 'rea', 'fourth password', false);
    const page = await loggedInPage(browser, server.baseUrl, user, '/data/export');
    const row = page.locator('table.export-jobs tbody tr', { has: page.locator(`td.num:text-is("${originalId}")`) });
    await Promise.all([page.waitForURL(/done=export-rerun/), row.locator('button:text("Re-run")').click()]);
    const [rerun] = await listReportJobs(server.db.pool, 1);
    expect(rerun).toMatchObject({ rerunOf: originalId, state: 'queued', requestedBy: 'rea', selection: { groups: ['Wave 1'] }, sources: ['P-other'], types: original.types, from: '2023-09-01', to: '2023-09-30', format: 'tsv', destinations: ['folder'] });
    await expect(page.locator('.notice').textContent()).resolves.toContain(`Export job ${rerun.id} (a re-run of job ${originalId}) queued`);

    await runOk(server.db.pool, server.config, reportJobsJob);
    await page.reload();
    const rerunRow = page.locator('table.export-jobs tbody tr', { has: page.locator(`td.num:text-is("${rerun.id}")`) });
    await expect(rerunRow.textContent()).resolves.toMatch(new RegExp(`re-run of ${originalId}.*done\\s*2 points`, 's'));
    const done = (await getReportJob(server.db.pool, rerun.id))!;
    expect(done.storedAt[0]).not.toBe(original.storedAt[0]);
    expect(sha256(done.storedAt[0])).toBe(sha256(original.storedAt[0]));

    // a nightly job has no button: its night is re-run instead (dcs export nightly --from/--to)
    await server.db.pool.query(`UPDATE report_jobs SET batch = 'nightly:2023-09-14', sequence = 1 WHERE id = $1`, [originalId]);
    await page.reload();
    await expect(row.locator('button:text("Re-run")').count()).resolves.toBe(0);
    await expect(rerunRow.locator('button:text("Re-run")').count()).resolves.toBe(1);
    if (process.env.DCS_RERUN_SCREENSHOT) await page.screenshot({ path: process.env.DCS_RERUN_SCREENSHOT, fullPage: true });
  });
});
