/** The home page and its actions over real HTTP: list, search, sort, pages, management, TSV. */
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { daysAgo, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

describe('home page', () => {
  const server = useTestServer();
  let login: Login;
  // P-fresh's points; the strip counts them by day (UTC here), so which days they fall on depends
  // on the time of day the test runs (an hour ago is yesterday between 00:00 and 01:00).
  const freshTimes = [hoursAgo(1), hoursAgo(2), daysAgo(3), daysAgo(5)];
  const dayOf = (at: Date) => at.toISOString().slice(0, 10);

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
    // P-fresh uploaded an hour ago on 3 of the last days; P-late 30 hours ago; P-never nothing.
    await postGzip(server, [
      ...freshTimes.map((at) => pointAt('P-fresh', at)),
      pointAt('P-late', hoursAgo(30)),
    ]);
    await server.process();
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('P-never', now())`);
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    await runOk(server.db.pool, server.config, statusChecksJob);
  });

  const get = async (path: string) => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: login.csrf, ...fields }).toString(),
    });
  const subjectOf = (response: Response) => new URL(response.headers.get('location')!, server.baseUrl).searchParams.get('subject');
  const rowOrder = (page: string) => [...page.matchAll(/<tr class="source[^"]*" data-source="([^"]+)"/g)].map((m) => m[1]);
  const sourceRow = (page: string, source: string) => new RegExp(`<tr class="source[^"]*" data-source="${source}">([\\s\\S]*?)</tr>`).exec(page)?.[1] ?? '';

  it('lists the alerts with their level in words and the sources with their statistics', async () => {
    const page = await get('/data/');
    expect(page).toContain('<span class="level level-critical">Critical</span>');
    expect(page).toMatch(/data-source="P-late"[\s\S]*?Data upload is critically overdue/);
    expect(page).toMatch(/data-source="P-never"[\s\S]*?Data never uploaded/);
    expect(page).not.toMatch(/<tr class="alert[^"]*" data-source="P-fresh"/);
    expect(rowOrder(page)).toEqual(['P-fresh', 'P-late', 'P-never']);
    const fresh = sourceRow(page, 'P-fresh');
    expect(fresh).toContain('<td class="num" title="4 points in all">4</td>');
    expect(fresh).toMatch(/>1 h ago<|>6\d min ago</);
    // the strip: 14 days, points on 3 of them (today, 3 and 5 days ago; 4 when the test runs
    // between 00:00 and 02:00 UTC, when one of the two recent points fell on yesterday)
    const days = new Set(freshTimes.map(dayOf)).size;
    expect(fresh.match(/<rect class="day"/g)).toHaveLength(days);
    expect(fresh.match(/<rect class="day empty"/g)).toHaveLength(14 - days);
    expect(fresh).toMatch(days === 3 ? /<title>[^<]*: 2 points<\/title>/ : /<title>[^<]*: 1 point<\/title>/);
    expect(sourceRow(page, 'P-never')).toContain('never');
  });

  it('sorts by latest point (never-uploaded first when ascending), searches, and paginates', async () => {
    expect(rowOrder(await get('/data/?sort=latest'))).toEqual(['P-never', 'P-late', 'P-fresh']);
    expect(rowOrder(await get('/data/?sort=latest&dir=desc'))).toEqual(['P-fresh', 'P-late', 'P-never']);
    expect(rowOrder(await get('/data/?q=late'))).toEqual(['P-late']);
    expect(rowOrder(await get('/data/?q=%25'))).toEqual([]);
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) SELECT 'Z-' || lpad(i::text, 3, '0'), now() FROM generate_series(1, 150) i`);
    const first = await get('/data/');
    expect(rowOrder(first)).toHaveLength(100);
    expect(first).toContain('<a href="/data/?page=2" rel="next">');
    const second = rowOrder(await get('/data/?page=2'));
    expect(second).toHaveLength(53);
    expect(second.at(-1)).toBe('Z-150');
    await server.db.pool.query(`DELETE FROM data_sources WHERE source LIKE 'Z-%'`);
  });

  it('ignores sort keys and group ids that are not its own (no 500 for ?sort=constructor or a huge group)', async () => {
    for (const sort of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(rowOrder(await get(`/data/?sort=${sort}`)), sort).toEqual(['P-fresh', 'P-late', 'P-never']);
    expect(rowOrder(await get('/data/?group=99999999999999999999'))).toEqual(['P-fresh', 'P-late', 'P-never']);
  });

  it('adds, renames, moves, removes and restores sources, and never creates one on GET', async () => {
    let response = await post('/data/sources/add', { source: 'P-new', name: 'Newcomer', group: 'new', new_group: 'Wave 2' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/data\/\?done=added&subject=P-new&sig=[\w-]{22}$/);
    let page = await get(response.headers.get('location')!);
    expect(page).toContain('Source P-new added.');
    expect(page).toMatch(/<tr class="group-row"><th colspan="11">Wave 2<\/th><\/tr>\s*<tr class="source" data-source="P-new">/);

    response = await post('/data/sources/add', { source: 'P-new2', name: 'Newcomer' });
    expect(response.headers.get('location')).toMatch(/^\/data\/\?failed=name-taken&subject=Newcomer&sig=[\w-]{22}$/);
    expect(await get(response.headers.get('location')!)).toContain('The name Newcomer is already used by another source.');
    response = await post('/data/sources/add', { source: 'P-new' });
    expect(response.headers.get('location')).toContain('failed=source-exists');

    response = await post('/data/sources/rename', { source: 'P-fresh', name: 'Fresh <one>', return: '/data/?sort=name' });
    expect(response.headers.get('location')).toMatch(/^\/data\/\?sort=name&done=renamed&subject=P-fresh&sig=[\w-]{22}$/);
    expect(sourceRow(await get('/data/'), 'P-fresh')).toContain('<td>Fresh &lt;one&gt;</td>');

    const { rows: [group] } = await server.db.pool.query(`SELECT id FROM source_groups WHERE name = 'Wave 2'`);
    await post('/data/sources/move', { source: 'P-fresh', group: String(group.id) });
    expect(rowOrder(await get(`/data/?group=${group.id}`))).toEqual(['P-fresh', 'P-new']);

    response = await post('/data/sources/remove', { source: 'P-late' });
    expect(response.headers.get('location')).toContain('done=removed');
    page = await get('/data/');
    expect(rowOrder(page)).not.toContain('P-late');
    expect(page).not.toMatch(/<tr class="alert[^"]*" data-source="P-late"/);
    expect(rowOrder(await get('/data/?removed=1'))).toContain('P-late');
    const { rows: [kept] } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'P-late'`);
    expect(kept.n).toBe(1);
    await post('/data/sources/restore', { source: 'P-late' });
    expect(rowOrder(await get('/data/'))).toContain('P-late');


    const before = await server.db.pool.query('SELECT count(*)::int AS n FROM data_sources');
    expect((await fetch(`${server.baseUrl}/data/source/nobody-here`, { headers: { cookie: login.cookie } })).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/data/?q=nobody`, { headers: { cookie: login.cookie } })).status).toBe(200);
    const after = await server.db.pool.query('SELECT count(*)::int AS n FROM data_sources');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('never redirects an action off-site, also when that shows only after the path is normalised', async () => {
    // `/data/../..//evil.example/` starts with /data/ but is `//evil.example/` once resolved.
    for (const offSite of ['//evil.example/', '/data/../..//evil.example/', '/data/%2e%2e/%2e%2e//evil.example/', '/data/..\\..\\evil.example/']) {
      const response = await post('/data/sources/rename', { source: 'P-late', name: '', return: offSite });
      const location = response.headers.get('location')!;
      expect(location, offSite).toMatch(/^\/data\/\?done=renamed&subject=P-late/);
      expect(new URL(location, server.baseUrl).origin, offSite).toBe(server.baseUrl);
    }
    const response = await post('/data/sources/rename', { source: 'P-late', name: '', return: '/data/./source/../?q=late' });
    expect(response.headers.get('location')).toMatch(/^\/data\/\?q=late&done=renamed&subject=P-late/);
  });

  it('shows a notice only with the signature this session gave it: a link cannot put its own text on the page', async () => {
    const injected = 'Session expired: sign in again at https://evil.example';
    const forged = await get(`/data/?failed=bad-file&subject=${encodeURIComponent(injected)}`);
    expect(forged).not.toContain('evil.example');
    expect(forged).not.toContain('could not be read');
    expect(await get(`/data/?done=constructor&subject=x`)).not.toContain('class="notice');
    const response = await post('/data/groups/add', { name: 'Wave 9' });
    const location = response.headers.get('location')!;
    expect(await get(location)).toContain('<p class="notice" role="status">Group Wave 9 created.</p>');
    // Changed text, or another session's signature: no notice.
    expect(await get(location.replace('Wave+9', 'Wave+6'))).not.toContain('class="notice');
    const other = await logIn(server.baseUrl, 'ana', 'correct horse');
    const elsewhere = await (await fetch(`${server.baseUrl}${location}`, { headers: { cookie: other.cookie } })).text();
    expect(elsewhere).not.toContain('class="notice');
  });

  it('suppresses the alerts of a source and of a group at once, and enables them again', async () => {
    let response = await post('/data/sources/suppress', { source: 'P-never', suppress: '1' });
    expect(response.headers.get('location')).toContain('done=suppressed');
    let page = await get('/data/');
    expect(page).not.toMatch(/<tr class="alert[^"]*" data-source="P-never"/);
    expect(sourceRow(page, 'P-never')).toContain('suppressed');
    await runOk(server.db.pool, server.config, statusChecksJob);
    expect(await get('/data/')).not.toMatch(/<tr class="alert[^"]*" data-source="P-never"/);
    await post('/data/sources/suppress', { source: 'P-never', suppress: '0' });
    await runOk(server.db.pool, server.config, statusChecksJob);
    expect(await get('/data/')).toMatch(/<tr class="alert[^"]*" data-source="P-never"/);

    await post('/data/groups/add', { name: 'Pilot' });
    const { rows: [pilot] } = await server.db.pool.query(`SELECT id FROM source_groups WHERE name = 'Pilot'`);
    await post('/data/sources/move', { source: 'P-never', group: String(pilot.id) });
    response = await post('/data/groups/suppress', { id: String(pilot.id), suppress: '1' });
    expect(response.headers.get('location')).toContain('done=group-suppressed');
    page = await get('/data/');
    expect(page).not.toMatch(/<tr class="alert[^"]*" data-source="P-never"/);
    expect(page).toContain('Pilot <span class="muted">(alerts suppressed)</span>');
    response = await post('/data/groups/delete', { id: String(pilot.id) });
    expect(response.headers.get('location')).toContain('done=group-deleted');
    const { rows: [source] } = await server.db.pool.query(`SELECT group_id FROM data_sources WHERE source = 'P-never'`);
    expect(source.group_id).toBeNull();
  });

  it('refuses actions without the CSRF token, or with it only in the URL (the multipart upload alone takes it there)', async () => {
    const response = await fetch(`${server.baseUrl}/data/sources/remove`, {
      method: 'POST',
      headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'source=P-fresh',
    });
    expect(response.status).toBe(403);
    const inUrl = await fetch(`${server.baseUrl}/data/sources/remove?_csrf=${encodeURIComponent(login.csrf)}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'source=P-fresh',
    });
    expect(inUrl.status).toBe(403);
    const { rows: [row] } = await server.db.pool.query(`SELECT removed_at FROM data_sources WHERE source = 'P-fresh'`);
    expect(row.removed_at).toBeNull();
  });

  it('downloads the source list as TSV and applies an edited one', async () => {
    const download = await fetch(`${server.baseUrl}/data/sources.tsv`, { headers: { cookie: login.cookie } });
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="data-sources.tsv"');
    const tsv = await download.text();
    expect(tsv.split('\r\n')[0]).toBe('Source ID\tSource Name\tGroup\tConfiguration');
    expect(tsv).toContain('P-fresh\tFresh <one>\tWave 2\t\r\n');

    const upload = (text: string) => {
      const form = new FormData();
      form.set('upload_file', new Blob([text], { type: 'text/tab-separated-values' }), 'roster.tsv');
      return fetch(`${server.baseUrl}/data/sources.tsv?_csrf=${encodeURIComponent(login.csrf)}`, { method: 'POST', redirect: 'manual', headers: { cookie: login.cookie }, body: form });
    };
    let response = await upload('Source ID\tSource Name\tGroup\r\nP-fresh\tFresh\tWave 3\r\nP-roster\tRostered\tWave 3\r\nP-late\t\t\r\n');
    expect(response.status).toBe(303);
    expect(subjectOf(response)).toBe('1 added, 1 updated, 1 unchanged');
    const { rows } = await server.db.pool.query(
      `SELECT s.source, s.name, g.name AS group FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id WHERE s.source IN ('P-fresh', 'P-roster', 'P-late') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { source: 'P-fresh', name: 'Fresh', group: 'Wave 3' },
      { source: 'P-late', name: null, group: null },
      { source: 'P-roster', name: 'Rostered', group: 'Wave 3' },
    ]);
    // Two sources swap names in one file; a file with no Group column leaves the groups alone.
    response = await upload('Source ID\tSource Name\nP-fresh\tRostered\nP-roster\tFresh\n');
    expect(subjectOf(response)).toBe('0 added, 2 updated, 0 unchanged');
    const { rows: swapped } = await server.db.pool.query(
      `SELECT s.source, s.name, g.name AS group FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id WHERE s.source IN ('P-fresh', 'P-roster') ORDER BY 1`,
    );
    expect(swapped).toEqual([{ source: 'P-fresh', name: 'Rostered', group: 'Wave 3' }, { source: 'P-roster', name: 'Fresh', group: 'Wave 3' }]);
    response = await upload('just some text\nwithout columns\n');
    expect(response.headers.get('location')).toContain('failed=bad-file');
    expect(await get(response.headers.get('location')!)).toContain('The source list could not be read: the first line must name the columns');
  });
});
