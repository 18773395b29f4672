/**
 * Home (/data/): active alerts, then the sources grouped by group with their statistics and the
 * 14-day strip, searched, sorted and paginated in the database; the management panels below.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readBackupHealth } from '../../backup/backup-runs.repository.ts';
import { describeBackups } from '../../backup/backup-status.ts';
import { FLAG_KINDS, FLAG_LABELS, isFlagKind } from '../../data-quality/flags-rules.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { listGroups } from '../groups.repository.ts';
import { listSourcesPage, SOURCE_SORTS, type SourceFilter, type SourceSort } from '../home-sources.repository.ts';
import { html, raw } from '../../html.ts';
import { listActiveAlertsForHome } from '../sources.repository.ts';
import { alertsSection } from './home.alerts.ts';
import { addSourceForm, groupsPanel, sourceListPanel } from './home.forms.ts';
import { sourcesTable } from './home.sources.ts';
import { outcomeNotice } from './notices.ts';
import { pageParam, queryParam, sendPage } from './page.ts';
import { pagination } from './pagination.ts';

export const SOURCES_PER_PAGE = 100;
const ALERTS_SHOWN = 50;

interface HomeQuery extends SourceFilter {
  sort: SourceSort;
  descending: boolean;
  page: number;
}

function readQuery(request: FastifyRequest): HomeQuery {
  const sort = queryParam(request, 'sort');
  const group = queryParam(request, 'group');
  const flag = queryParam(request, 'flag');
  return {
    search: queryParam(request, 'q').trim().slice(0, 200),
    // 15 digits at most: a longer number is no group id, and overflows PostgreSQL's bigint.
    group: group === 'none' ? 'none' : /^\d{1,15}$/.test(group) ? Number(group) : 'all',
    includeRemoved: queryParam(request, 'removed') === '1',
    flag: flag === 'any' || isFlagKind(flag) ? flag : undefined,
    // Own keys only: `in` also accepts Object.prototype's (?sort=constructor was a 500).
    sort: Object.hasOwn(SOURCE_SORTS, sort) ? (sort as SourceSort) : 'id',
    descending: queryParam(request, 'dir') === 'desc',
    page: pageParam(request),
  };
}

/** The home URL for `query` (parameters at their defaults are left out). */
function homeUrl(query: HomeQuery): string {
  const params = new URLSearchParams();
  if (query.search) params.set('q', query.search);
  if (query.group !== 'all') params.set('group', String(query.group));
  if (query.includeRemoved) params.set('removed', '1');
  if (query.flag) params.set('flag', query.flag);
  if (query.sort !== 'id') params.set('sort', query.sort);
  if (query.descending) params.set('dir', 'desc');
  if (query.page > 1) params.set('page', String(query.page));
  const search = params.toString();
  return `/data/${search ? `?${search}` : ''}`;
}

export function registerHomePage(scope: FastifyInstance, { pool, config }: DashboardDeps): void {
  scope.get('/', async (request, reply) => {
    const query = readQuery(request);
    const showAllAlerts = queryParam(request, 'alerts') === 'all';
    const [alerts, groups, list, backupHealth] = await Promise.all([
      listActiveAlertsForHome(pool, showAllAlerts ? 100_000 : ALERTS_SHOWN),
      listGroups(pool),
      listSourcesPage(pool, { ...query, pageSize: SOURCES_PER_PAGE }),
      readBackupHealth(pool),
    ]);
    const backups = describeBackups(backupHealth, config);
    const pages = Math.max(1, Math.ceil(list.total / SOURCES_PER_PAGE));
    const back = homeUrl(query);
    const groupChoice = html`<option value="all">All groups</option><option value="none"${query.group === 'none' ? raw(' selected') : ''}>Ungrouped</option>
      ${groups.map((g) => html`<option value="${g.id}"${query.group === g.id ? raw(' selected') : ''}>${g.name}</option>`)}`;
    const flagChoice = html`<option value="">Any or no flag</option><option value="any"${query.flag === 'any' ? raw(' selected') : ''}>Flagged (any flag)</option>
      ${FLAG_KINDS.map((kind) => html`<option value="${kind}"${query.flag === kind ? raw(' selected') : ''}>${FLAG_LABELS[kind]}</option>`)}`;
    const body = html`<h1>Sources</h1>${outcomeNotice(request)}
    ${backups.alert ? html`<p class="notice error" role="alert"><strong>Backups:</strong> ${backups.message} <a href="/data/system-health#backups">System health</a></p>` : ''}
    ${alertsSection(request, alerts, { timeZone: config.timeZone, showAll: showAllAlerts, back })}
    <section class="panel" id="sources"><h2>Sources <span class="muted">(${list.total}${query.search || query.group !== 'all' || query.flag ? ' matching' : ''})</span></h2>
      <form method="get" action="/data/" class="toolbar" role="search">
        <input type="search" name="q" value="${query.search}" placeholder="Identifier or name" aria-label="Search sources">
        <select name="group" aria-label="Group">${groupChoice}</select>
        <select name="flag" aria-label="Data-quality flag">${flagChoice}</select>
        <label><input type="checkbox" name="removed" value="1"${query.includeRemoved ? raw(' checked') : ''}> show removed</label>
        <input type="hidden" name="sort" value="${query.sort}">${query.descending ? html`<input type="hidden" name="dir" value="desc">` : ''}
        <button type="submit">Search</button>${query.search || query.group !== 'all' || query.includeRemoved || query.flag ? html` <a href="/data/">Clear</a>` : ''}
      </form>
      <p class="muted small">Points and frequency over the last ${config.metadataWindowDays} days; times in ${config.timeZone}. Statistics are refreshed every 5 minutes.</p>
      ${pagination(query.page, pages, (page) => homeUrl({ ...query, page }))}
      ${sourcesTable(request, list.rows, {
        sort: query.sort,
        descending: query.descending,
        sortLink: (sort, descending) => homeUrl({ ...query, sort, descending, page: 1 }),
        groups,
        timeZone: config.timeZone,
        back,
      })}
      ${pagination(query.page, pages, (page) => homeUrl({ ...query, page }))}
    </section>
    <div class="grid">${addSourceForm(request, groups)}${groupsPanel(request, groups)}${sourceListPanel(request)}</div>`;
    return sendPage(request, reply, { title: 'Sources', current: 'home', body });
  });
}
