/**
 * /data/donations: participants' data donations for the study team (issue 20 §5). Whether uploads
 * are open and what is missing, files per source and state, the requests newest first with their
 * files (filter by state or participant, 50 per page), re-run of a refused import, and the donation
 * sources' names and instructions. No file can be downloaded: files are sealed to a key the web
 * process does not hold.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { donationSettingsMissing, importerFor, offeredSources } from '../../donations/importer-list.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { listDonationSources, type DonationSource } from '../donation-sources.repository.ts';
import {
  countDonationRequests, countDonations, DONATION_STATES, listDonationRequests, type DonationCounts, type DonationRequest, type DonationState, type RequestFilter,
} from '../donations.repository.ts';
import { formatBytes, formatCount, formatDateTime } from '../format.ts';
import { registerDonationActions } from './donations.actions.ts';
import { FILE_HEADINGS, fileCells, STATE_LABELS } from './donations.files.ts';
import { donationSourcesSection } from './donations.sources.ts';
import { outcomeNotice } from './notices.ts';
import { pageParam, queryParam, sendPage } from './page.ts';
import { pagination } from './pagination.ts';

export const REQUESTS_PER_PAGE = 50;

/** Why an enabled source is not offered to participants, or undefined when it is. */
function notOfferedBecause(config: Config, source: string, offered: readonly string[]): string | undefined {
  if (offered.includes(source)) return undefined;
  if (!importerFor(source)) return 'this server has no importer for it';
  if (source === 'chatgpt' && !config.contentPublicKey) return 'PDK_EXTERNAL_CONTENT_PUBLIC_KEY is not set (message texts are sealed to it)';
  return 'uploads are closed';
}

function settingsSection(config: Config, names: ReadonlyMap<string, string>): SafeHtml {
  const missing = donationSettingsMissing(config);
  const offered = offeredSources(config);
  const open = missing.length === 0
    ? html`<p class="notice" role="status">Uploads are open${offered.length ? html` for ${offered.map((s, i) => html`${i ? ', ' : ''}<strong>${names.get(s) ?? s}</strong>`)}` : ' but no source is offered'}.</p>`
    : html`<div class="notice error" role="alert"><p>Uploads are closed: participants cannot donate until these are set.</p>
        <ul>${missing.map((m) => html`<li><code>${m.split(' ')[0]}</code> ${m.slice(m.indexOf(' ') + 1)}</li>`)}</ul></div>`;
  const notOffered = missing.length === 0
    ? config.donationSources.flatMap((s) => { const why = notOfferedBecause(config, s, offered); return why ? [html`<li>${names.get(s) ?? s} (<code>${s}</code>) is enabled but not offered: ${why}.</li>`] : []; })
    : [];
  const worker = config.donationSecretKey
    ? html`This process has <code>DONATION_SECRET_KEY</code>: its worker imports uploaded files.`
    : html`This process has no <code>DONATION_SECRET_KEY</code>: only a worker that has it imports files (with <code>dcs start</code>, set it here); until then uploads wait as “waiting for import”.`;
  return html`<section class="panel" id="settings"><h2>Settings</h2>${open}
    ${notOffered.length ? html`<ul>${notOffered}</ul>` : ''}
    <p>${worker}</p>
    <p class="small muted">Files up to ${formatBytes(config.donationMaxFileBytes)}; an extraction waits ${config.donationReviewHours} hours for the participant's confirmation;
      files are ${config.donationKeepFiles ? 'kept (sealed) after import (DONATION_KEEP_FILES)' : 'deleted once imported (the points stay)'}.
      Files are sealed to <code>DONATION_PUBLIC_KEY</code> as they arrive: the web server cannot read them, so no page offers a download.</p></section>`;
}

function countsSection(counts: DonationCounts, request: FastifyRequest): SafeHtml {
  const stateLink = (state: DonationState) => `/data/donations?state=${state}`;
  const total = (state: DonationState) => counts.sources.reduce((sum, s) => sum + (s.files[state] ?? 0), 0);
  const rows = counts.sources.map((s) => html`<tr><th scope="row">${s.name} <span class="muted mono small">${s.source}</span></th><td class="num">${formatCount(s.requests)}</td>
    ${DONATION_STATES.map((state) => html`<td class="num">${s.files[state] ? formatCount(s.files[state]) : html`<span class="muted">0</span>`}</td>`)}</tr>`);
  const current = queryParam(request, 'state');
  return html`<section class="panel" id="counts"><h2>Files per source and state</h2>
    <p class="small muted">${formatCount(counts.requests)} participant${counts.requests === 1 ? ' has' : 's have'} a donation request (opened by the enrollment server's link). Click a state to list its files.</p>
    <div class="table-scroll"><table class="data donation-counts"><thead><tr><th>Source</th><th class="num">Requests</th>
      ${DONATION_STATES.map((state) => html`<th class="num"><a href="${stateLink(state)}"${state === current ? html` aria-current="true"` : ''}>${STATE_LABELS[state]}</a></th>`)}</tr></thead>
      <tbody>${rows}</tbody>
      <tfoot><tr><th scope="row">All sources</th><td></td>${DONATION_STATES.map((state) => html`<td class="num">${formatCount(total(state))}</td>`)}</tr></tfoot></table></div></section>`;
}

function filterForm(filter: RequestFilter): SafeHtml {
  const option = (value: string, label: string) => html`<option value="${value}"${(filter.state ?? '') === value ? html` selected` : ''}>${label}</option>`;
  return html`<form method="get" action="/data/donations" class="toolbar">
    <label>State <select name="state">${option('', 'any')}${DONATION_STATES.map((s) => option(s, STATE_LABELS[s]))}${option('none', 'no file yet')}</select></label>
    <label>Participant <input type="search" name="participant" value="${filter.identifier ?? ''}" maxlength="1024" placeholder="identifier"></label>
    <button type="submit">Filter</button>${filter.state || filter.identifier ? html` <a href="/data/donations">Show all</a>` : ''}</form>`;
}

function requestRows(request: FastifyRequest, r: DonationRequest, names: ReadonlyMap<string, string>, timeZone: string): SafeHtml {
  const span = Math.max(1, r.files.length);
  const participant = r.knownSource
    ? html`<a href="/data/source/${encodeURIComponent(r.identifier)}">${r.identifier}</a>`
    : html`<span title="not a source of the dashboard yet (nothing uploaded)">${r.identifier}</span>`;
  const head = html`<td rowspan="${span}" class="mono">${participant}</td><td rowspan="${span}" class="nowrap">${formatDateTime(r.requestedAt, timeZone)}</td>
    <td rowspan="${span}">${r.sources.length ? r.sources.join(', ') : html`<span class="muted">none</span>`}</td>`;
  if (r.files.length === 0) return html`<tr class="request-start">${head}<td colspan="7" class="muted">No file yet.</td></tr>`;
  return html`${r.files.map((file, i) => html`<tr${i === 0 ? html` class="request-start"` : ''} data-file="${file.id}">${i === 0 ? head : ''}${fileCells(request, file, names, timeZone)}</tr>`)}`;
}

function readFilter(request: FastifyRequest): RequestFilter {
  const state = queryParam(request, 'state');
  const identifier = queryParam(request, 'participant').trim().slice(0, 1024);
  return {
    state: state === 'none' || (DONATION_STATES as readonly string[]).includes(state) ? (state as RequestFilter['state']) : undefined,
    identifier: identifier || undefined,
  };
}

function pageLink(filter: RequestFilter, page: number): string {
  const query = new URLSearchParams();
  if (filter.state) query.set('state', filter.state);
  if (filter.identifier) query.set('participant', filter.identifier);
  if (page > 1) query.set('page', String(page));
  const text = query.toString();
  return `/data/donations${text ? `?${text}` : ''}#requests`;
}

export function registerDonationsPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, config } = deps;
  registerDonationActions(scope, deps);
  scope.get('/donations', async (request, reply) => {
    const filter = readFilter(request);
    const [counts, total, sources] = await Promise.all([countDonations(pool), countDonationRequests(pool, filter), listDonationSources(pool)]);
    const pages = Math.max(1, Math.ceil(total / REQUESTS_PER_PAGE));
    const page = Math.min(pageParam(request), pages);
    const requests = await listDonationRequests(pool, filter, REQUESTS_PER_PAGE, (page - 1) * REQUESTS_PER_PAGE);
    const names = new Map(sources.map((s: DonationSource) => [s.identifier, s.name]));
    const tz = config.timeZone;
    const what = [filter.state ? `with files ${filter.state === 'none' ? 'none yet' : STATE_LABELS[filter.state]}` : '', filter.identifier ? `of ${filter.identifier}` : ''].filter(Boolean).join(' ');
    const body = html`<h1>Donations</h1>${outcomeNotice(request)}
      ${settingsSection(config, names)}
      ${countsSection(counts, request)}
      <section class="panel" id="requests"><h2>Requests <span class="muted small">${formatCount(total)} ${what ? `request${total === 1 ? '' : 's'} ${what}` : 'in all'}, newest activity first</span></h2>
        ${filterForm(filter)}
        ${requests.length === 0 ? html`<p class="muted">No donation request${filter.state || filter.identifier ? ' matches' : ' yet: the enrollment server opens one with its link'}.</p>` : html`
        ${pagination(page, pages, (n) => pageLink(filter, n))}
        <div class="table-scroll"><table class="data donations"><thead><tr><th>Participant</th><th>Requested</th><th>Sources</th>${FILE_HEADINGS}</tr></thead>
          <tbody>${requests.map((r) => requestRows(request, r, names, tz))}</tbody></table></div>
        ${pagination(page, pages, (n) => pageLink(filter, n))}`}
        <p class="small muted">Times in ${tz}. A refused file can be imported again while its sealed bytes are kept (${config.donationReviewHours} hours after it was refused), e.g. after a setting was fixed.</p>
      </section>
      ${donationSourcesSection(request, sources)}`;
    return sendPage(request, reply, { title: 'Donations', current: 'donations', body });
  });
}
