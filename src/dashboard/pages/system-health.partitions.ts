/**
 * System health's Partitions panel: the points waiting in data_points' DEFAULT partition (dated
 * past the premade months, or late for an archived month), as the alert says them, with their
 * sources linked to their pages. Nothing there: one line that says so.
 */
import { html, type SafeHtml } from '../../html.ts';
import type { DefaultPartitionRows, DefaultPartitionStatus } from '../../monitoring/default-partition.ts';
import { formatCount } from '../format.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function partitionsHealthSection(found: DefaultPartitionRows, status: DefaultPartitionStatus): SafeHtml {
  const notice = html`<p class="notice${status.alert ? ' error' : ''}" role="${status.alert ? 'alert' : 'status'}">${status.message}</p>`;
  const rows = found.sources.map((s) => html`<tr><td><a href="/data/source/${encodeURIComponent(s.source)}">${s.source}</a></td>
    <td class="num">${formatCount(s.rows)}</td><td class="nowrap">${day(s.from)}</td><td class="nowrap">${day(s.to)}</td></tr>`);
  const table = rows.length === 0 ? '' : html`<div class="table-scroll"><table class="data default-partition"><thead><tr><th>Source</th>
    <th class="num">Points</th><th>Oldest (UTC)</th><th>Newest (UTC)</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  const until = found.premadeUntil ? html` The premade months end at ${day(found.premadeUntil)}.` : '';
  return html`<section class="panel" id="partitions"><h2>Partitions</h2>${notice}${table}
    <p class="muted small">Points are stored in one partition per month of their time.${until} <code>dcs archive list</code> shows the months attached and archived (docs/partitions.md).</p></section>`;
}
