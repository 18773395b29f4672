/**
 * The source page's Data quality panel: each flag the data-quality job raised for the source, with
 * its evidence (what it counts, first and last time, examples), and evidence that has not reached
 * its threshold, muted. docs/data-quality.md says what each flag means.
 */
import type { Pool } from '../../db/database.ts';
import { EVIDENCE_UNITS, FLAG_LABELS, isFlagKind } from '../../data-quality/flags-rules.ts';
import { html, type SafeHtml } from '../../html.ts';
import { listSourceFlags, type SourceFlag } from '../data-quality-flags.repository.ts';
import { formatCount, formatDateTime } from '../format.ts';

function state(flag: SourceFlag, timeZone: string): SafeHtml {
  if (flag.clearedAt) return html`<span class="muted">cleared ${formatDateTime(flag.clearedAt, timeZone)}</span>`;
  if (flag.raisedAt) return html`<span class="level level-warning">raised</span> ${formatDateTime(flag.raisedAt, timeZone)}`;
  return html`<span class="muted">below its threshold</span>`;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

/** `type webmunk-history-visit · created 2023-12-07 19:17 · …`: times in the dashboard's zone. */
function exampleText(example: Record<string, unknown>, timeZone: string): SafeHtml {
  const value = (v: unknown) => typeof v === 'string' && ISO_TIME.test(v) ? formatDateTime(new Date(v), timeZone)
    : Array.isArray(v) ? v.join(', ') : typeof v === 'number' ? formatCount(v) : String(v);
  return html`${Object.entries(example).map(([key, v], i) => html`${i ? ' · ' : ''}<span class="muted">${key}</span> <span class="mono">${value(v)}</span>`)}`;
}

/** The Data quality page's rule form, filled in to take the source out (one click from the flag, one to confirm). */
function excludeLink(source: string, label: string): SafeHtml {
  const query = new URLSearchParams({ source, reason: `${label} (flagged by the data-quality job)` });
  return html`<a href="/data/data-quality?${query.toString()}" class="small">Exclude…</a>`;
}

function flagRow(flag: SourceFlag, source: string, timeZone: string): SafeHtml {
  const kind = isFlagKind(flag.kind) ? flag.kind : null;
  return html`<tr data-flag="${flag.kind}" class="${flag.raisedAt && !flag.clearedAt ? 'active' : 'muted'}">
    <td><a href="/data/?flag=${encodeURIComponent(flag.kind)}">${kind ? FLAG_LABELS[kind] : flag.kind}</a></td>
    <td class="nowrap">${state(flag, timeZone)}</td>
    <td class="num">${formatCount(flag.evidenceCount)} <span class="muted small">${kind ? EVIDENCE_UNITS[kind] : ''}</span></td>
    <td class="nowrap">${formatDateTime(flag.firstSeen, timeZone)}</td><td class="nowrap">${formatDateTime(flag.lastSeen, timeZone)}</td>
    <td><ul class="examples small">${flag.examples.map((example) => html`<li>${exampleText(example, timeZone)}</li>`)}</ul></td>
    <td>${flag.raisedAt && !flag.clearedAt ? excludeLink(source, kind ? FLAG_LABELS[kind] : flag.kind) : ''}</td></tr>`;
}

export async function sourceDataQualityPanel(pool: Pool, source: string, timeZone: string): Promise<SafeHtml> {
  const flags = await listSourceFlags(pool, source);
  return html`<section class="panel" id="data-quality"><h2>Data quality</h2>
    ${flags.length === 0
      ? html`<p class="ok">No flags: nothing in this source's points or uploads looked automated, skewed, repeated or shared (the data-quality job reads new data every 5 minutes).</p>`
      : html`<div class="table-scroll"><table class="data flags"><thead><tr><th>Flag</th><th>State</th><th class="num">Evidence</th><th>First</th><th>Last</th><th>Examples</th><th></th></tr></thead>
        <tbody>${flags.map((flag) => flagRow(flag, source, timeZone))}</tbody></table></div>`}
    <p class="small muted">Times in ${timeZone}: of the points (uploads, for a duplicate storm). What each flag means: docs/data-quality.md.</p></section>`;
}
