/**
 * /data/user-agents over real HTTP and PostgreSQL, after real uploads, processing and the
 * source-statistics job: grouping, sorting, search, the automated-browser flag and filter, paging,
 * and escaping of what participants' browsers send.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { automationSignatures } from '../../src/monitoring/automated-browser.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { CHROME, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const SCRIPT = 'Evil/1.0 <script>alert("ua")</script>';
const ODD = 'Odd_Browser/2.0 (100% real)';

describe('user agents page', () => {
  const server = useTestServer();
  let login: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'uma', 'uma password', false);
    login = await logIn(server.baseUrl, 'uma', 'uma password');
    const points = (source: string, n: number, userAgent: string) => Array.from({ length: n }, (_, i) => pointAt(source, hoursAgo(i + 1), { userAgent }));
    await postGzip(server, [...points('ua-a', 3, CHROME), ...points('ua-b', 2, CHROME), ...points('ua-c', 3, HEADLESS)]);
    await postGzip(server, [...points('ua-d', 1, SCRIPT), ...points('ua-e', 4, ODD), ...points('ua-b', 1, HEADLESS)]);
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
  });

  const get = async (query = '') => {
    const response = await fetch(`${server.baseUrl}/data/user-agents${query}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  /** The user agents of the table's rows, in order, as shown (escaped). */
  const agentsOf = (page: string) => [...page.matchAll(/<td class="ua">.*?<span class="mono">(.*?)<\/span>/gs)].map((m) => m[1]);
  const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

  it('lists every user agent, most points first, with sources, points and times', async () => {
    const page = await get();
    expect(page).toContain('href="/data/user-agents" aria-current="page"');
    expect(agentsOf(page)).toEqual([CHROME, ODD, HEADLESS, SCRIPT].map(escaped));
    const chrome = page.slice(page.indexOf(CHROME));
    expect(chrome).toMatch(/^[^]*?<td class="num">2<\/td><td class="num">5<\/td>/);
    expect(page).toMatch(/<th class="num" aria-sort="descending"><a href="\/data\/user-agents\?sort=points&amp;dir=asc">Points<\/a><\/th>/);
    expect(page.match(/aria-sort=/g)).toHaveLength(1);
    // Each row expands to its sources, linked to their pages.
    expect(page).toContain('<summary>2 sources</summary>');
    expect(page).toContain('href="/data/source/ua-c"');
  });

  it('flags automated browsers with their signatures and counts them at the top', async () => {
    const automated = [CHROME, HEADLESS, SCRIPT, ODD].filter((ua) => automationSignatures(ua).length > 0);
    expect(automated).toContain(HEADLESS);
    expect(automated).not.toContain(CHROME);
    const page = await get();
    expect(page).toContain(`4 user agents, <strong>${automated.length} automated</strong>`);
    const headlessRow = page.slice(page.lastIndexOf('<tr', page.indexOf(HEADLESS)), page.indexOf('</tr>', page.indexOf(HEADLESS)));
    expect(headlessRow).toContain('<tr class="automated">');
    expect(headlessRow).toContain('<span class="flag">Automated</span>');
    for (const signature of automationSignatures(HEADLESS)) expect(headlessRow).toContain(signature);
    const chromeRow = page.slice(page.lastIndexOf('<tr', page.indexOf(CHROME)), page.indexOf('</tr>', page.indexOf(CHROME)));
    expect(chromeRow).not.toContain('class="flag"');

    const filtered = await get('?automated=1');
    expect(agentsOf(filtered)).toEqual(automated.map(escaped));
    expect(filtered).toContain('name="automated" value="1" checked');
    expect(filtered).toContain(`${automated.length} matching.`);
    // Sort links keep the filter.
    expect(filtered).toContain('href="/data/user-agents?automated=1&amp;sort=agent&amp;dir=asc"');
  });

  it('sorts by each column, falling back to points for an unknown one', async () => {
    // Ties (HEADLESS and ODD: 4 points each) by user agent, always ascending.
    expect(agentsOf(await get('?sort=points&dir=asc'))).toEqual([SCRIPT, ODD, HEADLESS, CHROME].map(escaped));
    expect(agentsOf(await get('?sort=agent&dir=asc'))).toEqual([SCRIPT, ODD, CHROME, HEADLESS].map(escaped));
    const bySources = agentsOf(await get('?sort=sources&dir=desc'));
    expect(bySources.slice(0, 2).sort()).toEqual([CHROME, HEADLESS].map(escaped).sort());
    // First seen is the oldest point: SCRIPT's is 1 hour old, the others' 3 or 4 hours.
    expect(agentsOf(await get('?sort=first&dir=desc'))[0]).toBe(escaped(SCRIPT));
    expect(agentsOf(await get('?sort=last&dir=asc')).length).toBe(4);
    const bogus = await get('?sort=user_agent;DROP TABLE bundles&dir=sideways');
    expect(agentsOf(bogus)).toEqual([CHROME, ODD, HEADLESS, SCRIPT].map(escaped));
    const byAgent = await get('?sort=agent&dir=desc');
    expect(byAgent).toContain('<th aria-sort="descending"><a href="/data/user-agents?sort=agent&amp;dir=asc">User agent</a></th>');
  });

  it('searches for a substring, case-insensitively, with % and _ taken literally', async () => {
    expect(agentsOf(await get('?q=headlesschrome'))).toEqual([escaped(HEADLESS)]);
    expect(agentsOf(await get(`?q=${encodeURIComponent('100%')}`))).toEqual([escaped(ODD)]);
    // Unescaped, _b would match "AppleWebKit" (ILIKE ignores case).
    expect(agentsOf(await get('?q=_B'))).toEqual([escaped(ODD)]);
    const none = await get(`?q=${encodeURIComponent('%%')}`);
    expect(agentsOf(none)).toEqual([]);
    expect(none).toContain('No user agent matches.');
    const both = await get('?q=chrome&automated=1');
    expect(agentsOf(both)).toEqual([escaped(HEADLESS)]);
    expect(both).toContain('value="chrome"');
  });

  it('escapes a user agent that carries markup', async () => {
    const page = await get();
    expect(page).not.toContain('<script>');
    expect(page).toContain('Evil/1.0 &lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;');
    const search = await get(`?q=${encodeURIComponent('"><script>x</script>')}`);
    expect(search).not.toContain('<script>');
    expect(search).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('pages 100 user agents at a time, and lists at most 50 sources per agent', async () => {
    await server.db.pool.query(
      `INSERT INTO user_agent_sources (user_agent, source, points, first_seen, last_seen)
       SELECT 'Paged agent ' || lpad(n::text, 3, '0'), 'paged-source', n, now() - interval '1 day', now() FROM generate_series(1, 150) AS n`,
    );
    await server.db.pool.query(
      `INSERT INTO user_agent_sources (user_agent, source, points, first_seen, last_seen)
       SELECT 'Many sources agent', 'many-' || n, 1, now() - interval '1 day', now() FROM generate_series(1, 60) AS n`,
    );
    const first = await get('?q=Paged');
    expect(agentsOf(first)).toHaveLength(100);
    expect(agentsOf(first)[0]).toBe('Paged agent 150');
    expect(first).toContain('150 matching.');
    expect(first).toContain('<nav class="pages"');
    expect(first).toContain('href="/data/user-agents?q=Paged&amp;page=2" rel="next"');
    const second = await get('?q=Paged&page=2');
    expect(agentsOf(second)).toHaveLength(50);
    expect(agentsOf(second).at(-1)).toBe('Paged agent 001');
    // A page past the end shows the last one.
    expect(agentsOf(await get('?q=Paged&page=9'))).toHaveLength(50);

    const many = await get('?q=Many%20sources');
    expect(many).toContain('<summary>60 sources</summary>');
    expect(many.match(/href="\/data\/source\/many-\d+"/g)).toHaveLength(50);
    expect(many).toContain('and 10 more');
  });
});
