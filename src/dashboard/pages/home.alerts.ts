/** The home page's alert table: level in words and colour, source, check, since, message, suppress. */
import type { FastifyRequest } from 'fastify';
import { csrfField } from '../auth/csrf.ts';
import { formatAge, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { HomeAlert } from '../sources.repository.ts';

const LEVEL_WORDS = { critical: 'Critical', warning: 'Warning', info: 'Info' } as const;

export function levelBadge(level: keyof typeof LEVEL_WORDS): SafeHtml {
  return html`<span class="level level-${level}">${LEVEL_WORDS[level] ?? level}</span>`;
}

export function sourceLink(source: string, name: string | null): SafeHtml {
  return html`<a href="/data/source/${encodeURIComponent(source)}">${name ?? source}</a>${name ? html` <span class="muted mono">${source}</span>` : ''}`;
}

export function alertsSection(
  request: FastifyRequest,
  found: { alerts: HomeAlert[]; total: number; critical: number; warning: number },
  options: { timeZone: string; showAll: boolean; back: string },
): SafeHtml {
  if (found.total === 0) return html`<section class="panel" id="alerts"><h2>Alerts</h2><p class="ok">No active alerts.</p></section>`;
  const now = new Date();
  const rows = found.alerts.map((a) => html`<tr class="alert alert-${a.level}" data-source="${a.source}">
    <td>${levelBadge(a.level)}</td>
    <td>${sourceLink(a.source, a.sourceName)}</td>
    <td class="mono small nowrap">${a.checkId}</td>
    <td>${a.name}</td>
    <td class="nowrap" title="${formatDateTime(a.created, options.timeZone)}">${formatAge(a.created, now)}</td>
    <td>${a.message}</td>
    <td><form class="inline" method="post" action="/data/sources/suppress">${csrfField(request)}
      <input type="hidden" name="source" value="${a.source}"><input type="hidden" name="suppress" value="1">
      <input type="hidden" name="return" value="${options.back}">
      <button type="submit" class="secondary" title="Suppress every alert of this source until enabled again">Suppress</button></form></td></tr>`);
  const more = found.total - found.alerts.length;
  return html`<section class="panel" id="alerts"><h2>Alerts <span class="muted">(${found.total}: ${found.critical} critical, ${found.warning} warning)</span></h2>
  <table class="data alerts"><thead><tr><th>Level</th><th>Source</th><th>Check</th><th>Alert</th><th>Since</th><th>Message</th><th></th></tr></thead>
  <tbody>${rows}</tbody></table>
  ${more > 0 ? html`<p><a href="/data/?alerts=all#alerts">Show all ${found.total} alerts</a> (${more} more)</p>` : ''}
  ${options.showAll ? html`<p><a href="/data/#alerts">Show the first alerts only</a></p>` : ''}</section>`;
}
