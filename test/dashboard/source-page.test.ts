/** The source page over real HTTP: per-type statistics, charts, alerts, point JSON pages, 404. */
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

describe('source page', () => {
  const server = useTestServer();
  let login: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
    const points = [];
    // 25 history visits, one every 10 minutes up to 5 hours ago (so an upload-overdue warning), and 3 scrolls.
    for (let i = 0; i < 25; i++) points.push(pointAt('S/1 ä', hoursAgo(5 + i / 6), { body: { title: i === 0 ? '<script>alert(1)</script>' : `page ${i}` } }));
    for (let i = 0; i < 3; i++) points.push(pointAt('S/1 ä', hoursAgo(30 + i), { generatorId: 'webmunk-extension-scroll-position' }));
    await postGzip(server, points);
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    await runOk(server.db.pool, server.config, statusChecksJob);
  });

  const get = (path: string, cookie = login.cookie) => fetch(`${server.baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
  const url = `/data/source/${encodeURIComponent('S/1 ä')}`;

  it('shows per data type counts and labels, both charts, and the alerts', async () => {
    const response = await get(url);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toMatch(/<tr data-type="webmunk-history-visit"><td><a [^>]*>[^<]+<\/a><\/td><td class="mono small">webmunk-history-visit<\/td>\s*<td class="num">25<\/td>/);
    expect(page).toMatch(/<tr data-type="webmunk-extension-scroll-position">[\s\S]*?<td class="num">3<\/td>/);
    // by created: 25 distinct buckets in the last 2 days, plus 3 for the scrolls; by recorded: all arrived in one bucket
    expect(page).toMatch(/class="chart chart-created"[^>]*data-bars="28"/);
    expect(page).toMatch(/class="chart chart-recorded"[^>]*data-bars="1"/);
    expect(page).toContain('<span class="level level-warning">Warning</span>');
    expect(page).toContain('Data upload is overdue');
  });

  it('pages through the latest points of a data type as escaped JSON, newest first', async () => {
    const first = await (await get(`${url}?type=webmunk-history-visit`)).text();
    expect(first.match(/<pre class="json">/g)).toHaveLength(10);
    expect(first).toContain('&quot;title&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;');
    expect(first).not.toContain('<script>alert(1)');
    const third = await (await get(`${url}?type=webmunk-history-visit&page=3`)).text();
    expect(third.match(/<pre class="json">/g)).toHaveLength(5);
    expect(third).toContain('&quot;title&quot;: &quot;page 24&quot;');
    expect(third).toContain('<span class="current" aria-current="page">3</span>');
  });

  it('answers 404 for an unknown source and creates nothing; needs a login', async () => {
    const response = await get('/data/source/nobody');
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('There is no source <code>nobody</code>');
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_sources WHERE source = 'nobody'`);
    expect(rows[0].n).toBe(0);
    const anonymous = await get(url, '');
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toMatch(/^\/data\/login\?next=/);
  });
});
