/**
 * The source page's REX configuration panel: what the participant was served last (configuration,
 * version, how it was chosen: assigned directly, drawn as a study arm, by identifier or pattern,
 * or the default), and for administrators a form to assign one directly (POST
 * /data/sources/configuration) or clear the assignment.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setAssignment } from '../../app-config/assignments.repository.ts';
import { findConfiguration, listConfigurations } from '../../app-config/configurations.repository.ts';
import { findServedTo } from '../../app-config/served.repository.ts';
import type { Pool } from '../../db/database.ts';
import { csrfField } from '../auth/csrf.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatAge, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { configurationLink, requireAdmin } from './configurations.page.ts';
import { outcomeNotice, withOutcome } from './notices.ts';

const HOW: Record<string, string> = {
  assigned: 'assigned directly',
  drawn: 'drawn as a study arm',
  exact: 'its identifier',
  pattern: 'identifier pattern',
  default: 'the default (APP_CONFIG_DEFAULT)',
};

export async function sourceConfigurationPanel(request: FastifyRequest, pool: Pool, source: string, timeZone: string): Promise<SafeHtml> {
  const [{ served, assigned }, configurations] = await Promise.all([findServedTo(pool, source), listConfigurations(pool)]);
  const isAdmin = request.session?.user.isAdmin ?? false;
  const servedLine = served
    ? html`<p class="served-configuration">Served <a href="${configurationLink({ id: served.configurationId })}">${served.name}</a> version ${served.version}
        (${HOW[served.chosenBy] ?? served.chosenBy}), <span title="${formatDateTime(served.servedAt, timeZone)}">${formatAge(served.servedAt)}</span>.</p>`
    : html`<p class="muted">Never asked for a configuration (REX extensions ask at <code>/data/app-config.json</code>).</p>`;
  const assignedLine = assigned
    ? html`<p>Assigned directly: <a href="${configurationLink({ id: assigned.configurationId })}">${assigned.name}</a>, by ${assigned.assignedBy} ${formatAge(assigned.assignedAt)}.</p>`
    : html`<p class="muted small">No configuration assigned directly: it gets the first whose pattern matches its identifier.</p>`;
  const form = isAdmin && configurations.length > 0
    ? html`<form method="post" action="/data/sources/configuration" class="toolbar">${csrfField(request)}<input type="hidden" name="source" value="${source}">
        <label>Assign <select name="configuration"><option value="">none (by pattern)</option>
          ${configurations.map((c) => html`<option value="${c.id}"${c.id === assigned?.configurationId ? html` selected` : ''}>${c.name}${c.enabled ? '' : ' (disabled)'}</option>`)}</select></label>
        <button type="submit">Assign</button></form>`
    : '';
  return html`<section class="panel" id="configuration"><h2>REX configuration</h2>${outcomeNotice(request)}${servedLine}${assignedLine}${form}</section>`;
}

export function registerSourceConfigurationActions(scope: FastifyInstance, { pool }: DashboardDeps): void {
  scope.post('/sources/configuration', async (request, reply) => {
    const by = requireAdmin(request);
    const form = (request.body ?? {}) as Record<string, unknown>;
    const source = typeof form.source === 'string' ? form.source : '';
    const back = `/data/source/${encodeURIComponent(source)}`;
    if (form.configuration === '' || form.configuration === undefined) {
      await setAssignment(pool, source, null, by);
      return reply.code(303).redirect(withOutcome(request, back, { done: 'config-unassigned', subject: source }));
    }
    const id = Number(form.configuration);
    const configuration = Number.isSafeInteger(id) ? await findConfiguration(pool, id) : undefined;
    if (!configuration || !source) return reply.code(303).redirect(withOutcome(request, back, { failed: 'unknown-configuration' }));
    await setAssignment(pool, source, configuration.id, by);
    return reply.code(303).redirect(withOutcome(request, back, { done: 'config-assigned', subject: `${configuration.name} to ${source}` }));
  });
}
