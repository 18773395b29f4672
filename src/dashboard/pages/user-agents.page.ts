/**
 * /data/user-agents: every browser (user agent) that sent points, with its sources, points and
 * first/last seen; automated browsers (headless Chrome, Selenium, bots) flagged, since a
 * participant's data from one is probably not a person browsing. Sort, search, filter and pages
 * are query parameters, so every view is a link and the page needs no script.
 */
import type { FastifyInstance } from 'fastify';
import { automationSignatures } from '../../monitoring/automated-browser.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatCount, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import {
  countUserAgents, isUserAgentSort, listDistinctUserAgents, listSourcesOfUserAgents, listUserAgents,
  type SortDirection, type UserAgentRow, type UserAgentSort, type UserAgentSource,
} from '../user-agents.repository.ts';
import { pageParam, queryParam, sendPage } from './page.ts';
import { pagination } from './pagination.ts';

const PER_PAGE = 100;
const SOURCES_SHOWN = 50;

interface View {
  search: string;
  automated: boolean;
  sort: UserAgentSort;
  dir: SortDirection;
  page: number;
}

const COLUMNS: Array<{ sort: UserAgentSort; label: string; numeric: boolean; firstDir: SortDirection }> = [
  { sort: 'agent', label: 'User agent', numeric: false, firstDir: 'asc' },
  { sort: 'sources', label: 'Sources', numeric: true, firstDir: 'desc' },
  { sort: 'points', label: 'Points', numeric: true, firstDir: 'desc' },
  { sort: 'first', label: 'First seen', numeric: false, firstDir: 'desc' },
  { sort: 'last', label: 'Last seen', numeric: false, firstDir: 'desc' },
];

/** The URL of a view; defaults are left out so links stay short. */
function viewUrl(view: View, change: Partial<View> = {}): string {
  const v = { ...view, ...change };
  const params = new URLSearchParams();
  if (v.search) params.set('q', v.search);
  if (v.automated) params.set('automated', '1');
  if (v.sort !== 'points' || v.dir !== 'desc') {
    params.set('sort', v.sort);
    params.set('dir', v.dir);
  }
  if (v.page > 1) params.set('page', String(v.page));
  const query = params.toString();
  return `/data/user-agents${query ? `?${query}` : ''}`;
}

/** A header links to its sort; the current one flips direction and says which it is (aria-sort). */
function header(view: View, column: (typeof COLUMNS)[number]): SafeHtml {
  const current = view.sort === column.sort;
  const dir = current ? (view.dir === 'asc' ? 'desc' : 'asc') : column.firstDir;
  const ariaSort = current ? (view.dir === 'asc' ? 'ascending' : 'descending') : undefined;
  return html`<th${column.numeric ? html` class="num"` : ''}${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="${viewUrl(view, { sort: column.sort, dir, page: 1 })}">${column.label}</a></th>`;
}

function sourceList(sources: readonly UserAgentSource[], total: number): SafeHtml {
  const items = sources.map((s) => html`<li><a href="/data/source/${encodeURIComponent(s.source)}">${s.name ?? s.source}</a>${s.name ? html` <span class="muted">(${s.source})</span>` : ''}
    <span class="muted">· ${formatCount(s.points)} points</span></li>`);
  const more = total > sources.length ? html`<li class="muted">and ${formatCount(total - sources.length)} more</li>` : '';
  return html`<details class="ua-sources"><summary>${total === 1 ? '1 source' : `${formatCount(total)} sources`}</summary><ul>${items}${more}</ul></details>`;
}

function row(agent: UserAgentRow, sources: readonly UserAgentSource[], timeZone: string): SafeHtml {
  const signatures = automationSignatures(agent.userAgent);
  const flag = signatures.length > 0
    ? html`<div class="ua-flag"><span class="flag">Automated</span> <span class="muted small">${signatures.join(', ')}</span></div>`
    : '';
  return html`<tr${signatures.length > 0 ? html` class="automated"` : ''}><td class="ua">${flag}<span class="mono">${agent.userAgent}</span>${sourceList(sources, agent.sources)}</td>
    <td class="num">${formatCount(agent.sources)}</td><td class="num">${formatCount(agent.points)}</td>
    <td class="nowrap">${formatDateTime(agent.firstSeen, timeZone)}</td><td class="nowrap">${formatDateTime(agent.lastSeen, timeZone)}</td></tr>`;
}

function toolbar(view: View): SafeHtml {
  // A GET form: the view is in the URL (bookmarkable), and no CSRF token leaks into it.
  return html`<form method="get" action="/data/user-agents" class="toolbar" role="search">
    <label for="ua-search">Search</label>
    <input type="search" id="ua-search" name="q" value="${view.search}" placeholder="part of a user agent" size="40">
    <label><input type="checkbox" name="automated" value="1"${view.automated ? html` checked` : ''}> Automated browsers only</label>
    ${view.sort !== 'points' || view.dir !== 'desc' ? html`<input type="hidden" name="sort" value="${view.sort}"><input type="hidden" name="dir" value="${view.dir}">` : ''}
    <button type="submit">Show</button>
    ${view.search || view.automated ? html`<a href="${viewUrl(view, { search: '', automated: false, page: 1 })}">Clear</a>` : ''}
  </form>`;
}

export function registerUserAgentsPage(scope: FastifyInstance, deps: DashboardDeps): void {
  // Read-only, from what the statistics job writes: the read replica when there is one.
  const { readPool: pool, config } = deps;
  scope.get('/user-agents', async (request, reply) => {
    const sortText = queryParam(request, 'sort');
    const sort: UserAgentSort = isUserAgentSort(sortText) ? sortText : 'points';
    const dirText = queryParam(request, 'dir');
    const view: View = {
      search: queryParam(request, 'q').trim().slice(0, 200),
      automated: queryParam(request, 'automated') === '1',
      sort,
      dir: dirText === 'asc' || dirText === 'desc' ? dirText : sort === 'agent' ? 'asc' : 'desc',
      page: pageParam(request),
    };

    const allAgents = await listDistinctUserAgents(pool);
    const automatedCount = allAgents.filter((ua) => automationSignatures(ua).length > 0).length;
    let total: number;
    let agents: UserAgentRow[];
    if (view.automated) {
      // Classification is in Node (isbot's list), so filter every matching agent, then paginate.
      const matching = (await listUserAgents(pool, { search: view.search, sort: view.sort, dir: view.dir }))
        .filter((a) => automationSignatures(a.userAgent).length > 0);
      total = matching.length;
      view.page = Math.min(view.page, Math.max(1, Math.ceil(total / PER_PAGE)));
      agents = matching.slice((view.page - 1) * PER_PAGE, view.page * PER_PAGE);
    } else {
      total = await countUserAgents(pool, view.search);
      view.page = Math.min(view.page, Math.max(1, Math.ceil(total / PER_PAGE)));
      agents = await listUserAgents(pool, { search: view.search, sort: view.sort, dir: view.dir, limit: PER_PAGE, offset: (view.page - 1) * PER_PAGE });
    }
    const sources = await listSourcesOfUserAgents(pool, agents.map((a) => a.userAgent), SOURCES_SHOWN);
    const pages = Math.ceil(total / PER_PAGE);
    const filtered = view.search || view.automated;

    const summary = html`<p class="ua-summary">${formatCount(allAgents.length)} user agent${allAgents.length === 1 ? '' : 's'}${allAgents.length > 0 ? html`, <strong>${formatCount(automatedCount)} automated</strong>
      ${automatedCount > 0 && !view.automated ? html`(<a href="${viewUrl(view, { automated: true, page: 1 })}">show only those</a>)` : ''}` : ''}.
      <span class="muted small">From the points folded by the source-statistics job (every 5 minutes).</span></p>`;
    const table = agents.length === 0
      ? html`<p class="muted">${filtered ? 'No user agent matches.' : 'No user agents yet: they appear once the source-statistics job has folded the first points.'}</p>`
      : html`${filtered ? html`<p class="muted small">${formatCount(total)} matching.</p>` : ''}
        <table class="data user-agents"><thead><tr>${COLUMNS.map((c) => header(view, c))}</tr></thead>
        <tbody>${agents.map((a) => row(a, sources.get(a.userAgent) ?? [], config.timeZone))}</tbody></table>
        ${pagination(view.page, pages, (page) => viewUrl(view, { page }))}`;
    const body = html`<h1>User agents</h1>${summary}${toolbar(view)}${table}`;
    return sendPage(request, reply, { title: 'User agents', current: 'user-agents', body });
  });
}
