/**
 * Erasure from the dashboard (docs/data-quality.md, "Erasure"), for administrators: the source
 * page's panel with a confirm step (the identifier typed again), POST /data/sources/erase, and for
 * an erased identifier a page with its audit and POST /data/sources/readmit. CSRF is checked by
 * the auth plugin on every POST.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { eraseSource, erasureStatus, readmitSource, type AuditRow } from '../../data-quality/erasure.ts';
import { html, type SafeHtml } from '../../html.ts';
import { csrfField } from '../auth/csrf.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatDateTime } from '../format.ts';
import { requireAdmin } from './configurations.page.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { sendPage } from './page.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const sourcePath = (source: string) => `/data/source/${encodeURIComponent(source)}`;

/** The source page's panel: for an administrator, the form; for others, who can do it. */
export function sourceErasurePanel(request: FastifyRequest, source: string): SafeHtml {
  const isAdmin = request.session?.user.isAdmin ?? false;
  const body = isAdmin
    ? html`<p>A participant who withdraws: delete every point, upload, donated file, statistic and alert of
        <code>${source}</code> for good, and keep its later uploads out. An audit entry records who did it, the counts, and the backups that still hold the data.</p>
      <form method="post" action="/data/sources/erase" class="toolbar">${csrfField(request)}<input type="hidden" name="source" value="${source}">
        <label>Type <code>${source}</code> to confirm <input name="confirm" autocomplete="off" required></label>
        <button type="submit" class="danger">Erase this participant</button></form>`
    : html`<p class="muted small">Only an administrator can erase a participant's data.</p>`;
  return html`<section class="panel" id="erasure"><h2>Erasure</h2>${body}</section>`;
}

function auditTable(audit: AuditRow[], timeZone: string): SafeHtml {
  return html`<table class="data audit"><thead><tr><th>When</th><th>Action</th><th>By</th><th>Rows</th><th>Backups written before</th></tr></thead><tbody>
  ${audit.map((a) => html`<tr><td class="nowrap">${formatDateTime(a.doneAt, timeZone)}</td><td>${a.action === 'erase' ? 'erased' : 're-admitted'}</td><td>${a.doneBy}</td>
    <td class="small">${Object.entries(a.counts).filter(([, n]) => n > 0).map(([table, n]) => `${table} ${n}`).join(', ') || '–'}${a.mixedBundles.length > 0 ? html`<br>kept ${a.mixedBundles.length} shared bundle(s): ${a.mixedBundles.join(', ')}` : ''}</td>
    <td class="small mono">${a.backupsBefore.map((b) => `${b.name} (${b.destinations.join(', ')})`).join(', ') || '–'}</td></tr>`)}</tbody></table>`;
}

/**
 * The page of an identifier that has no source but an erasure history; undefined when it has
 * none (the caller answers its usual 404).
 */
export async function sendErasedSourcePage(request: FastifyRequest, reply: FastifyReply, { pool, config }: DashboardDeps, source: string): Promise<FastifyReply | undefined> {
  const { erased, audit } = await erasureStatus(pool, source);
  if (audit.length === 0) return undefined;
  const isAdmin = request.session?.user.isAdmin ?? false;
  const readmit = erased && isAdmin
    ? html`<form method="post" action="/data/sources/readmit" class="toolbar">${csrfField(request)}<input type="hidden" name="source" value="${source}">
        <button type="submit">Re-admit ${source}</button> <span class="muted small">its uploads are stored again from then on; nothing erased comes back</span></form>`
    : '';
  const state = erased
    ? html`<p><strong>Erased</strong> ${formatDateTime(erased.erasedAt, config.timeZone)} by ${erased.erasedBy}: its uploads are answered and dropped, nothing of them is stored.</p>`
    : html`<p>Re-admitted: its uploads are stored again.</p>`;
  return sendPage(request, reply, { status: erased ? 410 : 404, title: `${source} (erased)`, current: 'home', body: html`<p class="small"><a href="/data/">‹ Sources</a></p>
    <h1>${source}</h1>${outcomeNotice(request)}
    <section class="panel" id="erasure"><h2>Erasure</h2>${state}${readmit}${auditTable(audit, config.timeZone)}</section>` });
}

export function registerSourceErasureActions(scope: FastifyInstance, { pool }: DashboardDeps): void {
  const sourceOf = (request: FastifyRequest, name: string) => {
    const value = ((request.body ?? {}) as Record<string, unknown>)[name];
    return typeof value === 'string' ? value.trim().slice(0, 1024) : '';
  };
  scope.post('/sources/erase', async (request, reply) => {
    const by = requireAdmin(request);
    const source = sourceOf(request, 'source');
    if (!source || sourceOf(request, 'confirm') !== source) {
      return reply.code(303).redirect(withOutcome(request, `${sourcePath(source)}#erasure`, { failed: 'erase-not-confirmed', subject: source }));
    }
    const report = await eraseSource(pool, source, by);
    return reply.code(303).redirect(withOutcome(request, sourcePath(source), { done: 'erased', subject: `${source} (${plural(report.counts.data_points, 'point')}, ${plural(report.counts.bundles, 'upload')})` }));
  });
  scope.post('/sources/readmit', async (request, reply) => {
    const by = requireAdmin(request);
    const source = sourceOf(request, 'source');
    const done = await readmitSource(pool, source, by);
    return reply.code(303).redirect(withOutcome(request, sourcePath(source), done ? { done: 'readmitted', subject: source } : { failed: 'not-erased', subject: source }));
  });
}
