/** The home page's source table: one row per source, a header row per group, the 14-day strip. */
import type { FastifyRequest } from 'fastify';
import { csrfField } from '../auth/csrf.ts';
import { activityStrip, type StripDay } from '../charts.ts';
import { dateFormatter, formatAge, formatCount, formatDateTime, formatFrequency, summarizeUserAgent } from '../format.ts';
import type { SourceGroup } from '../groups.repository.ts';
import { html, raw, type SafeHtml } from '../../html.ts';
import type { SourceRow, SourceSort } from '../home-sources.repository.ts';
import { FLAG_LABELS, isFlagKind } from '../../data-quality/flags-rules.ts';
import { levelBadge } from './home.alerts.ts';

export const STRIP_DAYS = 14;

/** YYYY-MM-DD of `date` in `timeZone`. */
export function dayIn(date: Date, timeZone: string): string {
  return dateFormatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;

/** The strip's day labels ("Mon, Nov 23"), oldest first, ending `today`: the same for every row. */
function stripLabels(today: string): string[] {
  const format = dateFormatter('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' });
  return Array.from({ length: STRIP_DAYS }, (_, i) => format.format(new Date((dayNumber(today) - (STRIP_DAYS - 1 - i)) * 86_400_000)));
}

/**
 * The strip ending today. The statistics hold 14 days ending their stats_day; when the job has
 * not run since midnight, the days are shifted so the strip still ends today.
 */
export function stripDays(row: Pick<SourceRow, 'dailyPoints' | 'statsDay'>, today: string, labels = stripLabels(today)): StripDay[] {
  const shift = row.statsDay ? dayNumber(today) - dayNumber(row.statsDay) : STRIP_DAYS;
  return labels.map((label, i) => {
    const source = i + shift;
    return { label, points: row.dailyPoints && source >= 0 && source < STRIP_DAYS ? row.dailyPoints[source] ?? 0 : 0 };
  });
}

export interface SourceTableOptions {
  sort: SourceSort;
  descending: boolean;
  /** the URL of the page with another sort */
  sortLink: (sort: SourceSort, descending: boolean) => string;
  groups: SourceGroup[];
  timeZone: string;
  back: string;
}

const COLUMNS: Array<[SourceSort | null, string, string]> = [
  ['id', 'Identifier', ''],
  ['name', 'Name', ''],
  ['latest', 'Latest point', ''],
  ['upload', 'Last upload', ''],
  ['points', 'Points (window)', 'num'],
  ['frequency', 'Frequency', 'num'],
  [null, 'Last 14 days', ''],
  ['agent', 'User agent', ''],
  [null, 'Alerts', ''],
  [null, 'Flags', ''],
  [null, '', ''],
];

function header(options: SourceTableOptions): SafeHtml {
  return html`<tr>${COLUMNS.map(([key, label, cls]) => {
    if (!key) return html`<th class="${cls}">${label}</th>`;
    const current = key === options.sort;
    // A first click sorts the most useful way: newest, most points, highest frequency first.
    const firstDescending = ['latest', 'upload', 'points', 'frequency'].includes(key);
    const descending = current ? !options.descending : firstDescending;
    const sort = current ? raw(` aria-sort="${options.descending ? 'descending' : 'ascending'}"`) : '';
    return html`<th class="${cls}"><a href="${options.sortLink(key, descending)}"${sort}>${label}</a></th>`;
  })}</tr>`;
}

function groupOptions(groups: SourceGroup[], selected: number | null): SafeHtml {
  return html`<option value=""${selected === null ? raw(' selected') : ''}>(no group)</option>${groups.map((g) => html`<option value="${g.id}"${g.id === selected ? raw(' selected') : ''}>${g.name}</option>`)}<option value="new">New group…</option>`;
}

/**
 * Two forms per row, not one per action: the group field's form also carries Suppress and Remove
 * as buttons with their own formaction, so Enter in either text field does what its button says
 * and the hidden fields are not repeated four times (100 rows of them were half the page).
 */
function actions(request: FastifyRequest, row: SourceRow, options: SourceTableOptions): SafeHtml {
  const hidden = html`${csrfField(request)}<input type="hidden" name="source" value="${row.source}"><input type="hidden" name="return" value="${options.back}">`;
  return html`<details class="actions"><summary>Edit</summary>
    <form method="post" action="/data/sources/rename" class="toolbar">${hidden}
      <label>Name <input type="text" name="name" value="${row.name ?? ''}" placeholder="${row.source}"></label><button type="submit">Rename</button></form>
    <form method="post" action="/data/sources/move" class="toolbar">${hidden}
      <label>Group <input type="text" name="new_group" value="${row.groupName ?? ''}" list="group-names" placeholder="(no group)"></label><button type="submit">Move</button>
      <button type="submit" formaction="/data/sources/suppress" name="suppress" value="${row.suppressAlerts ? '0' : '1'}" class="secondary">${row.suppressAlerts ? 'Enable alerts' : 'Suppress alerts'}</button>
      <button type="submit" formaction="/data/sources/${row.removedAt ? 'restore' : 'remove'}" class="${row.removedAt ? 'secondary' : 'danger'}">${row.removedAt ? 'Restore' : 'Remove from dashboard'}</button></form>
  </details>`;
}

function sourceRow(request: FastifyRequest, row: SourceRow, options: SourceTableOptions, strip: { today: string; labels: string[] }, now: Date): SafeHtml {
  const alerts = row.suppressAlerts || row.groupSuppressAlerts
    ? html`<span class="muted">suppressed</span>`
    : row.activeAlerts > 0 && row.alertLevel ? html`${levelBadge(row.alertLevel as 'critical')} ${row.activeAlerts > 1 ? row.activeAlerts : ''}` : html`<span class="muted">–</span>`;
  return html`<tr class="source${row.removedAt ? ' removed' : ''}" data-source="${row.source}">
    <td class="mono"><a href="/data/source/${encodeURIComponent(row.source)}">${row.source}</a>${row.removedAt ? html` <span class="muted">(removed)</span>` : ''}</td>
    <td>${row.name ?? ''}</td>
    <td class="nowrap" title="${formatDateTime(row.latestPointCreated, options.timeZone)}">${formatAge(row.latestPointCreated, now)}</td>
    <td class="nowrap" title="${formatDateTime(row.lastUploadAt, options.timeZone)}">${formatAge(row.lastUploadAt, now)}</td>
    <td class="num" title="${formatCount(row.pointCount)} points in all">${formatCount(row.windowPoints)}</td>
    <td class="num nowrap">${formatFrequency(row.frequencyHz)}</td>
    <td>${activityStrip(stripDays(row, strip.today, strip.labels))}</td>
    <td class="nowrap" title="${row.userAgent ?? ''}">${row.userAgent ? summarizeUserAgent(row.userAgent) : html`<span class="muted">–</span>`}</td>
    <td class="nowrap">${alerts}</td>
    <td class="flags">${row.excluded ? html`<a class="badge excluded" href="/data/data-quality" title="An exclusion rule takes out all of its points">excluded</a> ` : ''}${row.flags.length === 0 && !row.excluded ? html`<span class="muted">–</span>` : row.flags.map((kind) => html`<a class="badge flag" href="/data/source/${encodeURIComponent(row.source)}#data-quality" title="${isFlagKind(kind) ? FLAG_LABELS[kind] : kind}">${kind}</a> `)}</td>
    <td>${actions(request, row, options)}</td></tr>`;
}

export function sourcesTable(request: FastifyRequest, rows: SourceRow[], options: SourceTableOptions): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">No sources match.</p>`;
  const now = new Date();
  const today = dayIn(now, options.timeZone);
  const strip = { today, labels: stripLabels(today) };
  const body: SafeHtml[] = [];
  let group: string | null | undefined;
  for (const row of rows) {
    if (row.groupName !== group) {
      group = row.groupName;
      body.push(html`<tr class="group-row"><th colspan="${COLUMNS.length}">${group ?? 'Ungrouped sources'}${row.groupSuppressAlerts ? html` <span class="muted">(alerts suppressed)</span>` : ''}</th></tr>`);
    }
    body.push(sourceRow(request, row, options, strip, now));
  }
  // One list of group names for every row's Move field (a menu per row made the page 2× larger).
  const names = html`<datalist id="group-names">${options.groups.map((g) => html`<option value="${g.name}">`)}</datalist>`;
  return html`${names}<table class="data sources"><thead>${header(options)}</thead><tbody>${body}</tbody></table>`;
}

export { groupOptions };
