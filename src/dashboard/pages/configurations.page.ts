/**
 * /data/configurations: the REX configurations served at /data/app-config.json, in evaluation
 * order, with how many participants each was served last; administrators create them here
 * (POST /data/configurations) and switch them on and off. Staff see them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Configuration } from '../../app-config/configuration.ts';
import { countServed, listConfigurations } from '../../app-config/configurations.repository.ts';
import { exportConfigurations } from '../../app-config/transfer.ts';
import { DcsError } from '../../errors.ts';
import { csrfField } from '../auth/csrf.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatCount, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { CONFIGURATION_BODY_LIMIT, configurationForm, NEW_CONFIGURATION, readConfigurationForm, trySave, type ConfigurationFields } from './configuration.form.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { sendPage } from './page.ts';

export const configurationLink = (c: { id: number }) => `/data/configurations/${c.id}`;

/** Administrators only: saving configurations changes what every participant is served. */
export function requireAdmin(request: FastifyRequest): string {
  const user = request.session!.user;
  if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
  return user.username;
}

export function enabledToggle(request: FastifyRequest, c: Configuration): SafeHtml {
  return html`<form class="inline" method="post" action="${configurationLink(c)}/enabled">${csrfField(request)}<input type="hidden" name="enabled" value="${c.enabled ? '0' : '1'}">
    <input type="hidden" name="return" value="${request.url.split('?')[0]}">
    <button type="submit" class="secondary">${c.enabled ? 'Disable' : 'Enable'}</button></form>`;
}

async function renderList(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, form: ConfigurationFields = NEW_CONFIGURATION, problems: string[] = []) {
  const { pool, config } = deps;
  const [configurations, served] = await Promise.all([listConfigurations(pool), countServed(pool)]);
  const isAdmin = request.session?.user.isAdmin ?? false;
  const tz = config.timeZone;
  const rows = configurations.map((c) => html`<tr class="${c.enabled ? '' : 'removed'}" data-configuration="${c.name}">
    <td class="num">${c.order}</td><td><a href="${configurationLink(c)}">${c.name}</a></td>
    <td>${c.enabled ? 'enabled' : 'disabled'}</td><td class="mono">${c.idPattern}</td><td class="mono">${c.contextPattern}</td>
    <td class="num">${c.weight ?? '–'}</td><td class="num">${c.version}</td>
    <td class="nowrap small">${formatDateTime(c.updatedAt, tz)}<br><span class="muted">${c.updatedBy}</span></td>
    <td class="num">${formatCount(served.get(c.id) ?? 0)}</td>
    ${isAdmin ? html`<td>${enabledToggle(request, c)}</td>` : ''}</tr>`);
  const fallback = config.appConfigDefault
    ? html`Identifiers nothing matches get <strong>${config.appConfigDefault}</strong> (<code>APP_CONFIG_DEFAULT</code>).`
    : html`Identifiers nothing matches get 404, and the extension rejects them (set <code>APP_CONFIG_DEFAULT</code> to serve a configuration instead).`;
  const body = html`<h1>Configurations</h1>${outcomeNotice(request)}
  <p>What REX extensions get from <code>/data/app-config.json?id=&lt;identifier&gt;</code>: a participant's directly assigned configuration, else the first enabled one,
    in this order, whose identifier pattern is the identifier itself, else the first whose pattern matches it. ${fallback}
    <a href="/data/configurations.json">Export as JSON</a> (for <code>dcs config import</code>).</p>
  <section class="panel">${configurations.length === 0 ? html`<p class="muted">No configurations yet.</p>` : html`
    <div class="table-scroll"><table class="data configurations"><thead><tr><th class="num">Order</th><th>Name</th><th>State</th><th>Identifier pattern</th><th>Context</th>
      <th class="num">Weight</th><th class="num">Version</th><th>Saved</th><th class="num" title="Participants this configuration was the last served to">Served</th>${isAdmin ? html`<th></th>` : ''}</tr></thead>
    <tbody>${rows}</tbody></table></div>`}</section>
  ${isAdmin ? html`<section class="panel" id="new"><h2>New configuration</h2>${configurationForm(request, '/data/configurations', form, 'Create configuration', problems)}</section>`
    : html`<p class="muted small">Only an administrator can create or change configurations.</p>`}`;
  return sendPage(request, reply, { title: 'Configurations', current: 'configurations', body, status: problems.length > 0 ? 400 : 200 });
}

export function registerConfigurationsPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool } = deps;
  scope.get('/configurations', (request, reply) => renderList(deps, request, reply));

  // The file dcs config import reads.
  scope.get('/configurations.json', async (_request, reply) => reply.type('application/json')
    .header('content-disposition', 'attachment; filename="configurations.json"').send(`${JSON.stringify(await exportConfigurations(pool), null, 2)}\n`));

  scope.post('/configurations', { bodyLimit: CONFIGURATION_BODY_LIMIT }, async (request, reply) => {
    const by = requireAdmin(request);
    const { fields, input, problems } = readConfigurationForm(request.body);
    if (!input) return renderList(deps, request, reply, fields, problems);
    const saved = await trySave(pool, input, by);
    if ('problem' in saved) return renderList(deps, request, reply, fields, [saved.problem]);
    return reply.code(303).redirect(withOutcome(request, configurationLink(saved.configuration), { done: 'config-created', subject: input.name }));
  });
}
