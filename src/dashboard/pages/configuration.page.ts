/**
 * /data/configurations/<id>: one configuration, its edit form (administrators), and its history:
 * every version with who saved it and when, and what changed from the version before
 * (`?diff=<version>`: the fields, and the document line by line).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Configuration, ConfigurationInput } from '../../app-config/configuration.ts';
import { countServed, findConfiguration, listVersions, type ConfigurationVersion } from '../../app-config/configurations.repository.ts';
import { DcsError } from '../../errors.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatCount, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { diffLines } from '../line-diff.ts';
import { CONFIGURATION_BODY_LIMIT, configurationForm, fieldsOf, readConfigurationForm, trySave, type ConfigurationFields } from './configuration.form.ts';
import { configurationLink, enabledToggle, requireAdmin } from './configurations.page.ts';
import { outcomeNotice, safeReturn, withOutcome } from './notices.ts';
import { queryParam, sendPage } from './page.ts';

const FIELDS: Array<[keyof ConfigurationInput, string]> = [
  ['name', 'Name'], ['idPattern', 'Identifier pattern'], ['contextPattern', 'Context pattern'], ['order', 'Order'], ['enabled', 'Enabled'], ['weight', 'Weight'],
];
const shown = (value: unknown) => (value === null ? 'none' : String(value));

/** Unchanged runs longer than this are folded to their first and last CONTEXT lines. */
const CONTEXT = 3;

function documentDiff(before: string, after: string): SafeHtml {
  const lines = diffLines(before, after);
  if (!lines) return html`<p class="muted">The versions are too long to compare line by line.</p>`;
  if (lines.every((line) => line.kind === 'same')) return html`<p class="muted">The document did not change.</p>`;
  const out: SafeHtml[] = [];
  for (let i = 0; i < lines.length;) {
    let end = i;
    while (end < lines.length && lines[end].kind === lines[i].kind) end++;
    const run = lines.slice(i, end);
    if (run[0].kind !== 'same') out.push(...run.map((line) => html`<span class="${line.kind}">${line.kind === 'added' ? '+ ' : '- '}${line.text}</span>\n`));
    else {
      const keepHead = i === 0 ? 0 : CONTEXT;
      const keepTail = end === lines.length ? 0 : CONTEXT;
      if (run.length <= keepHead + keepTail + 1) out.push(...run.map((line) => html`  ${line.text}\n`));
      else {
        out.push(...run.slice(0, keepHead).map((line) => html`  ${line.text}\n`));
        out.push(html`<span class="fold">… ${run.length - keepHead - keepTail} unchanged lines …</span>\n`);
        out.push(...run.slice(run.length - keepTail).map((line) => html`  ${line.text}\n`));
      }
    }
    i = end;
  }
  return html`<pre class="diff">${out}</pre>`;
}

function versionDiff(versions: ConfigurationVersion[], version: number, tz: string): SafeHtml {
  const after = versions.find((v) => v.version === version);
  if (!after) return html``;
  const before = versions.find((v) => v.version === version - 1);
  const changed = FIELDS.filter(([key]) => !before || before[key] !== after[key]);
  return html`<section class="panel" id="diff"><h2>Version ${version}${before ? html` against version ${before.version}` : ' (the first)'}</h2>
    <p class="small muted">Saved by ${after.savedBy}, ${formatDateTime(after.savedAt, tz)}.</p>
    ${changed.length > 0 ? html`<table class="data"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>
      ${changed.map(([key, label]) => html`<tr><td>${label}</td><td class="mono">${before ? shown(before[key]) : '–'}</td><td class="mono">${shown(after[key])}</td></tr>`)}</tbody></table>` : ''}
    ${documentDiff(before?.document ?? '', after.document)}</section>`;
}

async function render(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, configuration: Configuration, form?: { fields: ConfigurationFields; problems: string[] }) {
  const { pool, config } = deps;
  const tz = config.timeZone;
  const [versions, served] = await Promise.all([listVersions(pool, configuration.id), countServed(pool)]);
  const isAdmin = request.session?.user.isAdmin ?? false;
  const link = configurationLink(configuration);
  const diff = Number(queryParam(request, 'diff'));
  const history = html`<table class="data versions"><thead><tr><th class="num">Version</th><th>Saved</th><th>By</th><th>Changed</th><th></th></tr></thead><tbody>
    ${versions.map((v, index) => {
      const before = versions[index + 1];
      const changed = before ? [...FIELDS.filter(([key]) => before[key] !== v[key]).map(([, label]) => label), ...(before.document === v.document ? [] : ['Configuration'])] : ['created'];
      return html`<tr${v.version === diff ? html` aria-current="true"` : ''}><td class="num">${v.version}</td><td class="nowrap">${formatDateTime(v.savedAt, tz)}</td><td>${v.savedBy}</td>
        <td>${changed.join(', ') || 'nothing'}</td><td><a href="${link}?diff=${v.version}#diff">${before ? 'Show changes' : 'Show'}</a></td></tr>`;
    })}</tbody></table>`;
  const body = html`<p class="small"><a href="/data/configurations">‹ Configurations</a></p>
  <h1>${configuration.name} <span class="muted">version ${configuration.version}${configuration.enabled ? '' : ', disabled'}</span></h1>${outcomeNotice(request)}
  <dl class="figures">
    <div><dt>Identifier pattern</dt><dd class="mono">${configuration.idPattern}</dd></div>
    <div><dt>Context pattern</dt><dd class="mono">${configuration.contextPattern}</dd></div>
    <div><dt>Order</dt><dd>${configuration.order}</dd></div>
    <div><dt>Weight</dt><dd>${configuration.weight ?? '–'}</dd></div>
    <div><dt>Served last to</dt><dd>${formatCount(served.get(configuration.id) ?? 0)}</dd></div>
  </dl>
  ${isAdmin ? html`<p>${enabledToggle(request, configuration)}</p>` : ''}
  ${Number.isInteger(diff) ? versionDiff(versions, diff, tz) : ''}
  <section class="panel"><h2>History</h2>${history}</section>
  <section class="panel" id="edit"><h2>${isAdmin ? 'Edit' : 'Configuration'}</h2>
  ${isAdmin ? configurationForm(request, link, form?.fields ?? fieldsOf(configuration), 'Save as a new version', form?.problems)
    : html`<pre class="json">${configuration.document}</pre><p class="muted small">Only an administrator can change configurations.</p>`}</section>`;
  return sendPage(request, reply, { title: configuration.name, current: 'configurations', body, status: form?.problems.length ? 400 : 200 });
}

export function registerConfigurationPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool } = deps;
  const find = async (request: FastifyRequest) => {
    const id = Number((request.params as { id: string }).id);
    return Number.isSafeInteger(id) ? findConfiguration(pool, id) : undefined;
  };
  const unknown = (request: FastifyRequest, reply: FastifyReply) => sendPage(request, reply, {
    status: 404, title: 'Unknown configuration', current: 'configurations',
    body: html`<h1>Unknown configuration</h1><p>There is no such configuration; see <a href="/data/configurations">Configurations</a>.</p>`,
  });

  scope.get('/configurations/:id', async (request, reply) => {
    const configuration = await find(request);
    return configuration ? render(deps, request, reply, configuration) : unknown(request, reply);
  });

  scope.post('/configurations/:id', { bodyLimit: CONFIGURATION_BODY_LIMIT }, async (request, reply) => {
    const by = requireAdmin(request);
    const configuration = await find(request);
    if (!configuration) return unknown(request, reply);
    const { fields, input, problems } = readConfigurationForm(request.body);
    if (!input) return render(deps, request, reply, configuration, { fields, problems });
    const saved = await trySave(pool, input, by, configuration);
    if ('problem' in saved) return render(deps, request, reply, configuration, { fields, problems: [saved.problem] });
    const done = saved.outcome === 'unchanged' ? 'config-unchanged' : 'config-saved';
    return reply.code(303).redirect(withOutcome(request, configurationLink(configuration), { done, subject: `${input.name} version ${saved.configuration.version}` }));
  });

  scope.post('/configurations/:id/enabled', async (request, reply) => {
    const by = requireAdmin(request);
    const configuration = await find(request);
    if (!configuration) return unknown(request, reply);
    const form = (request.body ?? {}) as Record<string, unknown>;
    const enabled = form.enabled === '1';
    const saved = await trySave(pool, { ...configuration, enabled }, by, configuration);
    if ('problem' in saved) throw new DcsError('DCS_ERR_BAD_REQUEST', `Not saved: ${saved.problem}. Edit the configuration.`);
    const back = safeReturn(form.return, '/data/configurations');
    return reply.code(303).redirect(withOutcome(request, back, { done: enabled ? 'config-enabled' : 'config-disabled', subject: configuration.name }));
  });
}
