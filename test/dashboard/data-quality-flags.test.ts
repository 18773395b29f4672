/**
 * The data-quality flags in the dashboard over real HTTP: the home page's Flags column and its
 * ?flag= filter, and the source page's Data quality panel with the evidence, after real uploads,
 * processing and a run of the data-quality job.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dataQualityJob } from '../../src/data-quality/data-quality.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { daysAgo, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

describe('data-quality flags in the dashboard', () => {
  const server = useTestServer();
  let login: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
    await postGzip(server, [pointAt('p-ordinary', hoursAgo(2)), pointAt('p-ordinary', hoursAgo(1))]);
    await postGzip(server, [pointAt('p-bot', hoursAgo(2), { userAgent: HEADLESS }), pointAt('p-bot', daysAgo(1000))]);
    await postGzip(server, [pointAt('dev-07', hoursAgo(2))]);
    await server.process();
    await runOk(server.db.pool, server.config, dataQualityJob);
  });

  const page = async (path: string) => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const listed = (html: string) => [...html.matchAll(/<tr class="source" data-source="([^"]+)"/g)].map((m) => m[1]).sort();

  it('shows each source\'s raised flags in a column, and filters by flag', async () => {
    const home = await page('/data/');
    expect(listed(home)).toEqual(['dev-07', 'p-bot', 'p-ordinary']);
    const botRow = home.slice(home.indexOf('data-source="p-bot"'), home.indexOf('</tr>', home.indexOf('data-source="p-bot"')));
    expect([...botRow.matchAll(/class="badge flag"[^>]*>([^<]+)</g)].map((m) => m[1])).toEqual(['automated-browser', 'clock-skew']);
    const ordinaryRow = home.slice(home.indexOf('data-source="p-ordinary"'), home.indexOf('</tr>', home.indexOf('data-source="p-ordinary"')));
    expect(ordinaryRow).not.toContain('badge flag');

    expect(listed(await page('/data/?flag=clock-skew'))).toEqual(['p-bot']);
    expect(listed(await page('/data/?flag=test-identifier'))).toEqual(['dev-07']);
    expect(listed(await page('/data/?flag=any'))).toEqual(['dev-07', 'p-bot']);
    expect(listed(await page('/data/?flag=interleaved'))).toEqual([]);
    // an unknown flag is no filter, not an error
    expect(listed(await page('/data/?flag=%3Cscript%3E'))).toEqual(['dev-07', 'p-bot', 'p-ordinary']);
    // the filter is kept in the form and in the sort links
    const filtered = await page('/data/?flag=clock-skew');
    expect(filtered).toContain('<option value="clock-skew" selected>');
    expect(filtered).toMatch(/href="\/data\/\?flag=clock-skew&amp;sort=name"/);
  });

  it('shows the evidence on the source page, and says so when there is none', async () => {
    const bot = await page('/data/source/p-bot');
    const panel = bot.slice(bot.indexOf('id="data-quality"'), bot.indexOf('</section>', bot.indexOf('id="data-quality"')));
    expect([...panel.matchAll(/<tr data-flag="([^"]+)" class="active">/g)].map((m) => m[1])).toEqual(['automated-browser', 'clock-skew']);
    expect(panel).toContain('HeadlessChrome/144.0.0.0');
    expect(panel).toContain('points with a clock off');
    expect(panel).toContain('<span class="muted">type</span> <span class="mono">webmunk-history-visit</span>');
    // each raised flag links to the Data quality page's rule form, filled in for this source
    const excludes = [...panel.matchAll(/href="(\/data\/data-quality\?[^"]+)"/g)].map((m) => new URL(m[1].replaceAll('&amp;', '&'), 'http://x').searchParams);
    expect(excludes.map((q) => q.get('source'))).toEqual(['p-bot', 'p-bot']);
    expect(excludes[0].get('reason')).toMatch(/flagged by the data-quality job/);
    const ordinary = await page('/data/source/p-ordinary');
    expect(ordinary).toContain('<h2>Data quality</h2>');
    expect(ordinary).toContain('No flags');
  });
});
