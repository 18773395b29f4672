/**
 * The home page's source table at more than a page of sources, in groups: every sort, both
 * directions, page after page, against the order computed here from what was uploaded; and the
 * order by latest point as new points arrive (uploaded, processed, folded by the statistics job).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { seededRandom, studyPoint } from '../helpers/study-points.ts';
import { runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const AGENT = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36';
const FIREFOX = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0';
const HOUR = 3_600_000;

/** What the test knows of each source: its group, name, points and newest point. */
interface Known {
  source: string;
  group: string | null;
  name: string | null;
  points: number;
  latest: number | null;
  agent: string | null;
}

describe('home page order', () => {
  const server = useTestServer();
  let login: Login;
  const known = new Map<string, Known>();
  const random = seededRandom(5);
  const now = Date.now();

  /** Uploads `count` points of `source` created `hoursAgo` hours ago (the newest) and before. */
  async function upload(sources: Array<{ source: string; count: number; hoursAgo: number; agent?: string }>): Promise<void> {
    const points = sources.flatMap(({ source, count, hoursAgo, agent = AGENT }) => {
      const entry = known.get(source)!;
      const newest = now - hoursAgo * HOUR;
      entry.points += count;
      entry.latest = Math.max(entry.latest ?? 0, newest);
      entry.agent = agent;
      // the newest a scroll point: its time is whole milliseconds (a history visit's has a fraction)
      return Array.from({ length: count }, (_, i) => studyPoint(i % 2 ? 'webmunk-history-visit' : 'webmunk-extension-scroll-position', { source, created: new Date(newest - i * 60_000), userAgent: agent, random }));
    });
    for (let i = 0; i < points.length; i += 400) await postGzip(server, points.slice(i, i + 400));
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
  }

  const get = async (path: string) => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const rowOrder = (page: string) => [...page.matchAll(/<tr class="source[^"]*" data-source="([^"]+)"/g)].map((m) => m[1]);
  /** Every page of a listing, in order. */
  async function listing(query: string): Promise<string[]> {
    const sources: string[] = [];
    for (let page = 1; ; page++) {
      const rows = rowOrder(await get(`/data/?${query}&page=${page}`));
      sources.push(...rows);
      if (rows.length < 100) return sources;
    }
  }

  /** The order the page promises: groups by name (case aside), ungrouped last; within, by key. */
  function expected(key: (k: Known) => string | number | null, descending: boolean, include: (k: Known) => boolean = () => true): string[] {
    const groupOrder = (k: Known) => (k.group === null ? '\uffff' : k.group.toLowerCase());
    const compare = (a: Known, b: Known) => {
      const ka = key(a);
      const kb = key(b);
      if (ka === kb) return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
      if (ka === null) return -1; // missing values first when ascending
      if (kb === null) return 1;
      return ka < kb ? -1 : 1;
    };
    return [...known.values()].filter(include)
      .sort((a, b) => (groupOrder(a) !== groupOrder(b) ? (groupOrder(a) < groupOrder(b) ? -1 : 1) : (descending ? -compare(a, b) : compare(a, b))))
      .map((k) => k.source);
  }

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
    // 230 sources: groups "beta" (90), "Alpha" (60), "gamma" (30) and 50 ungrouped, every fifth named.
    const groups = [...Array(90).fill('beta'), ...Array(60).fill('Alpha'), ...Array(30).fill('gamma'), ...Array(50).fill(null)];
    const lines = ['Source ID\tSource Name\tGroup'];
    groups.forEach((group, i) => {
      const source = `S${String((i * 37) % 230).padStart(3, '0')}`;
      const name = i % 5 === 0 ? `Person ${String.fromCharCode(65 + (i % 26))}${i}` : null;
      known.set(source, { source, group, name, points: 0, latest: null, agent: null });
      lines.push(`${source}\t${name ?? ''}\t${group ?? ''}`);
    });
    const form = new FormData();
    form.set('upload_file', new Blob([lines.join('\r\n')], { type: 'text/tab-separated-values' }), 'roster.tsv');
    const response = await fetch(`${server.baseUrl}/data/sources.tsv?_csrf=${encodeURIComponent(login.csrf)}`, { method: 'POST', redirect: 'manual', headers: { cookie: login.cookie }, body: form });
    expect(response.status).toBe(303);
    const { rows: [roster] } = await server.db.pool.query('SELECT count(*)::int AS sources, count(group_id)::int AS grouped FROM data_sources');
    expect(roster).toEqual({ sources: 230, grouped: 180 });
    // All but every ninth source upload; some share their newest point's time (ties by identifier).
    const uploads = [...known.keys()].filter((_, i) => i % 9 !== 4).map((source, i) => ({
      source, count: 1 + (i % 4), hoursAgo: i % 10 === 0 ? 30 : 1 + (i % 47), agent: i % 3 ? AGENT : FIREFOX,
    }));
    await upload(uploads);
  });

  it('pages through every sort in both directions, groups in name order, ungrouped last', async () => {
    const keys: Record<string, (k: Known) => string | number | null> = {
      id: (k) => k.source,
      name: (k) => k.name ?? k.source,
      latest: (k) => k.latest,
      points: (k) => k.points,
      agent: (k) => k.agent,
    };
    for (const [sort, key] of Object.entries(keys)) {
      for (const descending of [false, true]) {
        const shown = await listing(`sort=${sort}${descending ? '&dir=desc' : ''}`);
        expect(shown, `${sort} ${descending ? 'descending' : 'ascending'}`).toEqual(expected(key, descending));
      }
    }
    // page 2 starts within "beta" (60 Alpha and 40 beta on page 1) and ends among the ungrouped
    const groupRows = (page: string) => [...page.matchAll(/<tr class="group-row"><th colspan="11">([^<]+)</g)].map((m) => m[1]);
    expect(groupRows(await get('/data/?sort=latest&dir=desc'))).toEqual(['Alpha', 'beta']);
    expect(groupRows(await get('/data/?sort=latest&dir=desc&page=2'))).toEqual(['beta', 'gamma', 'Ungrouped sources']);
  });

  it('keeps the order by latest point, and the counts shown, as new points arrive', async () => {
    const before = await listing('sort=latest&dir=desc');
    expect(before).toEqual(expected((k) => k.latest, true));
    // The source that uploaded longest ago in "beta", one that never did, and an ungrouped one send points now.
    const beta = expected((k) => k.latest, true, (k) => k.group === 'beta' && k.latest !== null).at(-1)!;
    const never = [...known.values()].find((k) => k.group === 'gamma' && k.latest === null)!.source;
    const ungrouped = expected((k) => k.latest, true, (k) => k.group === null && k.latest !== null).at(-1)!;
    await upload([{ source: beta, count: 3, hoursAgo: 0.1 }, { source: never, count: 2, hoursAgo: 0.2 }, { source: ungrouped, count: 5, hoursAgo: 0.05 }]);

    const after = await listing('sort=latest&dir=desc');
    expect(after).toEqual(expected((k) => k.latest, true));
    expect(after[after.indexOf(beta) - 1]).toBe(expected((k) => k.latest, true, (k) => k.group === 'Alpha').at(-1));
    expect(after[after.length - 50]).toBe(ungrouped);
    const page = await get(`/data/?sort=latest&dir=desc&q=${never}`);
    expect(rowOrder(page)).toEqual([never]);
    expect(page).toContain('<td class="num" title="2 points in all">2</td>');
    expect(await get('/data/?sort=latest&dir=desc')).toContain('Sources <span class="muted">(230)</span>');
    // its latest point, to the minute in TIME_ZONE (UTC here), and its 5 new points with the one before
    const latest = new Date(known.get(ungrouped)!.latest!).toISOString().slice(0, 16).replace('T', ' ');
    const points = known.get(ungrouped)!.points;
    expect(await get(`/data/?q=${ungrouped}`)).toMatch(new RegExp(`data-source="${ungrouped}">[\\s\\S]*?<td class="nowrap" title="${latest}">[\\s\\S]*?<td class="num" title="${points} points in all">${points}</td>`));
  });

  it('filters by group, search and removal, still in order', async () => {
    const { rows: [alpha] } = await server.db.pool.query(`SELECT id FROM source_groups WHERE name = 'Alpha'`);
    expect(await listing(`group=${alpha.id}&sort=latest`)).toEqual(expected((k) => k.latest, false, (k) => k.group === 'Alpha'));
    expect(await listing('group=none&sort=points&dir=desc')).toEqual(expected((k) => k.points, true, (k) => k.group === null));
    expect(await listing('q=person&sort=name')).toEqual(expected((k) => k.name ?? k.source, false, (k) => k.name !== null));
    const removed = expected((k) => k.latest, true).slice(95, 105);
    await server.db.pool.query('UPDATE data_sources SET removed_at = now() WHERE source = ANY ($1)', [removed]);
    expect(await listing('sort=latest&dir=desc')).toEqual(expected((k) => k.latest, true, (k) => !removed.includes(k.source)));
    expect(await listing('sort=latest&dir=desc&removed=1')).toEqual(expected((k) => k.latest, true));
  });
});
