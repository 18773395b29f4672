/**
 * One source (/data/source/<identifier>): header figures, per-type statistics, points per
 * 10-minute bucket over 2 days by created and by recorded, its alerts, and per data type the
 * latest points as JSON (`?type=<generator id>&page=N`). Never creates anything: an unknown
 * identifier is a 404 (the original created a source on every GET).
 */
import type { FastifyInstance } from 'fastify';
import { listSourceAlerts, type Alert } from '../../monitoring/alerts.repository.ts';
import { barChart, type Bar } from '../charts.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatAge, formatCount, formatDateTime, formatFrequency } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { findSource, listLatestPoints, listRecentBuckets, listTypeStatistics, type TypeStatistics } from '../source-detail.repository.ts';
import { levelBadge } from './home.alerts.ts';
import { pageParam, queryParam, sendPage } from './page.ts';
import { pagination } from './pagination.ts';
import { sourceConfigurationPanel } from './source.configuration.ts';
import { sourceDataQualityPanel } from './source.data-quality.ts';
import { sourceDonationsPanel } from './source.donations.ts';
import { sendErasedSourcePage, sourceErasurePanel } from './source.erasure.ts';

const BUCKET_MS = 10 * 60_000;
const CHART_HOURS = 48;
export const POINTS_PER_PAGE = 10;

/** Ticks on the local hours divisible by 6 between from and to, e.g. "Dec 2 12:00". */
export function sixHourTicks(from: Date, to: Date, timeZone: string): Array<[Date, string]> {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const ticks: Array<[Date, string]> = [];
  // Half-hour steps, so zones offset by 30 minutes still get their ticks.
  for (let t = Math.ceil(from.getTime() / 1_800_000) * 1_800_000; t < to.getTime(); t += 1_800_000) {
    const p = Object.fromEntries(parts.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    if (p.minute === '00' && Number(p.hour) % 6 === 0) ticks.push([new Date(t), `${p.month} ${p.day} ${p.hour}:00`]);
  }
  return ticks;
}

function frequencyOf(type: TypeStatistics): number | null {
  const seconds = (type.lastCreated.getTime() - type.firstCreated.getTime()) / 1000;
  return type.points >= 2 && seconds > 0 ? type.points / seconds : null;
}

function alertsTable(alerts: Alert[], timeZone: string): SafeHtml {
  if (alerts.length === 0) return html`<p class="ok">No alerts, ever.</p>`;
  const sorted = [...alerts].sort((a, b) => Number(b.active) - Number(a.active));
  return html`<table class="data"><thead><tr><th>Level</th><th>State</th><th>Check</th><th>Alert</th><th>Message</th><th>Since</th><th>Updated</th></tr></thead><tbody>
  ${sorted.map((a) => html`<tr class="${a.active ? 'active' : 'closed muted'}"><td>${levelBadge(a.level)}</td><td>${a.active ? 'active' : 'closed'}</td>
    <td class="mono small nowrap">${a.checkId}</td><td>${a.name}</td><td>${a.details.message ?? ''}</td>
    <td class="nowrap">${formatDateTime(a.created, timeZone)}</td><td class="nowrap">${formatDateTime(a.updated, timeZone)}</td></tr>`)}</tbody></table>`;
}

export function registerSourcePage(scope: FastifyInstance, deps: DashboardDeps): void {
  // The points and their statistics may come from the read replica (DashboardDeps.readPool); the
  // source itself and the panels staff act on, from the primary.
  const { pool, readPool, config } = deps;
  scope.get('/source/:source', async (request, reply) => {
    const id = (request.params as { source: string }).source;
    const source = await findSource(pool, id);
    if (!source) {
      const erased = await sendErasedSourcePage(request, reply, deps, id);
      if (erased) return erased;
      return sendPage(request, reply, { status: 404, title: 'Unknown source', current: 'home', body: html`<h1>Unknown source</h1>
        <p>There is no source <code>${id}</code>. Sources appear when they first upload, or when added on the <a href="/data/">home page</a>.</p>` });
    }
    const to = new Date(Math.ceil(Date.now() / BUCKET_MS) * BUCKET_MS);
    const from = new Date(to.getTime() - CHART_HOURS * 3_600_000);
    const [types, created, recorded, alerts, configuration, donations, dataQuality] = await Promise.all([
      listTypeStatistics(readPool, id, config.timeZone),
      listRecentBuckets(readPool, id, 'c', from),
      listRecentBuckets(readPool, id, 'r', from),
      listSourceAlerts(pool, id, { limit: 50 }),
      sourceConfigurationPanel(request, pool, id, config.timeZone),
      sourceDonationsPanel(request, pool, id, config.timeZone),
      sourceDataQualityPanel(pool, id, config.timeZone),
    ]);
    const chosen = types.find((t) => t.generatorId === queryParam(request, 'type')) ?? types[0];
    const pages = chosen ? Math.max(1, Math.ceil(chosen.points / POINTS_PER_PAGE)) : 1;
    const page = Math.min(pageParam(request), pages);
    const points = chosen ? await listLatestPoints(readPool, id, chosen.generatorId, POINTS_PER_PAGE, (page - 1) * POINTS_PER_PAGE) : [];
    const tz = config.timeZone;
    const base = `/data/source/${encodeURIComponent(id)}`;
    const typeLink = (type: string, n = 1) => `${base}?type=${encodeURIComponent(type)}${n > 1 ? `&page=${n}` : ''}#points`;
    const ticks = sixHourTicks(from, to, tz);
    const chart = (buckets: typeof created, label: string, className: string) => {
      const bars: Bar[] = buckets.map((b) => ({ start: b.bucket, value: b.points, title: `${formatDateTime(b.bucket, tz)}: ${b.points} point${b.points === 1 ? '' : 's'}` }));
      return html`${barChart(bars, { label, from, to, bucketMs: BUCKET_MS, ticks, className })}${bars.length === 0 ? html`<p class="muted">No points in the last 2 days.</p>` : ''}`;
    };
    const suppressed = source.suppressAlerts ? 'suppressed (this source)' : source.groupSuppressAlerts ? 'suppressed (its group)' : 'on';

    const body = html`<p class="small"><a href="/data/">‹ Sources</a></p>
    <h1>${source.name ?? source.source}${source.name ? html` <span class="muted mono">${source.source}</span>` : ''}${source.removedAt ? html` <span class="muted">(removed)</span>` : ''}</h1>
    <dl class="figures">
      <div><dt>Group</dt><dd>${source.groupName ?? '–'}</dd></div>
      <div><dt>Latest point</dt><dd title="${formatDateTime(source.latestPointCreated, tz)}">${formatAge(source.latestPointCreated)}</dd></div>
      <div><dt>Last upload</dt><dd title="${formatDateTime(source.lastUploadAt, tz)}">${formatAge(source.lastUploadAt)}</dd></div>
      <div><dt>Points</dt><dd>${formatCount(source.pointCount)}</dd></div>
      <div><dt>Last ${config.metadataWindowDays} days</dt><dd>${formatCount(source.windowPoints)}</dd></div>
      <div><dt>Frequency</dt><dd>${formatFrequency(source.frequencyHz)}</dd></div>
      <div><dt>Alerts</dt><dd>${suppressed}</dd></div>
    </dl>
    <p class="small muted">First seen ${formatDateTime(source.firstSeen, tz)}; latest recorded ${formatDateTime(source.latestPointRecorded, tz)}; statistics of ${formatDateTime(source.statsUpdatedAt, tz)} (${tz}).<br>
      User agent: <span class="mono">${source.latestUserAgent ?? '–'}</span></p>
    ${dataQuality}
    ${configuration}
    ${donations}

    <section class="panel"><h2>Data types</h2>
    ${types.length === 0 ? html`<p class="muted">No points yet${source.pointCount > 0 ? ' in the statistics (the source-statistics job runs every 5 minutes)' : ''}.</p>` : html`
    <table class="data types"><thead><tr><th>Data type</th><th>Identifier</th><th class="num">Points</th><th>First created</th><th>Last created</th><th>Last recorded</th><th class="num">Frequency</th></tr></thead><tbody>
    ${types.map((t) => html`<tr data-type="${t.generatorId}"><td><a href="${typeLink(t.generatorId)}">${t.label}</a></td><td class="mono small">${t.generatorId}</td>
      <td class="num">${formatCount(t.points)}</td><td class="nowrap">${formatDateTime(t.firstCreated, tz)}</td><td class="nowrap">${formatDateTime(t.lastCreated, tz)}</td>
      <td class="nowrap">${formatDateTime(t.lastRecorded, tz)}</td><td class="num nowrap">${formatFrequency(frequencyOf(t))}</td></tr>`)}</tbody></table>`}
    </section>

    <section class="panel"><h2>Points per 10 minutes, last 2 days</h2>
      <h3><span class="swatch"></span>By created (when the browser recorded them)</h3>${chart(created, 'Points per 10 minutes by created', 'chart chart-created')}
      <h3><span class="swatch second"></span>By recorded (when they reached the server)</h3>${chart(recorded, 'Points per 10 minutes by recorded', 'chart chart-recorded')}
    </section>

    <section class="panel"><h2>Alerts</h2>${alertsTable(alerts, tz)}</section>

    <section class="panel" id="points"><h2>Latest points${chosen ? html`: ${chosen.label}` : ''}</h2>
    ${types.length > 1 ? html`<p class="small">${types.map((t) => t === chosen ? html`<strong>${t.label}</strong> ` : html`<a href="${typeLink(t.generatorId)}">${t.label}</a> `)}</p>` : ''}
    ${chosen ? html`${pagination(page, pages, (n) => typeLink(chosen.generatorId, n))}
      ${points.map((p) => html`<div class="point"><p class="small"><strong>created</strong> ${formatDateTime(p.created, tz)} · <strong>recorded</strong> ${formatDateTime(p.recorded, tz)}</p>
        <pre class="json">${JSON.stringify(p.properties, null, 2)}</pre></div>`)}
      ${pagination(page, pages, (n) => typeLink(chosen.generatorId, n))}` : html`<p class="muted">No points yet.</p>`}
    </section>
    ${sourceErasurePanel(request, source.source)}`;
    return sendPage(request, reply, { title: source.name ?? source.source, current: 'home', body });
  });
}
