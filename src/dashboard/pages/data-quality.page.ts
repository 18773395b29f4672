/**
 * /data/data-quality: the exclusion rules (docs/data-quality.md). Staff see every rule, what it
 * matches, why, who made and changed it; administrators make a rule (a flag's "Exclude" link
 * fills the form in), remove one (it stops applying, its history stays) or bring it back. Rules
 * never delete anything: exports, alerts and the query API leave their points out when reading.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  addRule, describeRule, listRules, ruleHistory, ruleProblem, ruleTime, setRuleEnabled, type ExclusionRule, type RuleFields,
} from '../../data-quality/exclusion-rules.repository.ts';
import { DcsError } from '../../errors.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { formatDateTime } from '../format.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { sendPage } from './page.ts';

const FIELDS = ['source', 'group', 'user_agent', 'type', 'from', 'to', 'reason'] as const;
type Prefill = Partial<Record<(typeof FIELDS)[number], string>>;

function field(form: FormFields | Record<string, unknown>, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? String(value[0] ?? '') : typeof value === 'string' ? value : '').trim();
}

function ruleFields(form: FormFields): RuleFields {
  const text = (name: string) => field(form, name) || null;
  return {
    source: text('source'), groupName: text('group'), userAgentPattern: text('user_agent'), generatorId: text('type'),
    createdFrom: ruleTime(field(form, 'from')), createdTo: ruleTime(field(form, 'to')), reason: field(form, 'reason'),
  };
}

function ruleRow(rule: ExclusionRule, history: SafeHtml, isAdmin: boolean, csrf: string, timeZone: string): SafeHtml {
  const action = rule.enabled ? 'remove' : 'enable';
  return html`<tr${rule.enabled ? '' : html` class="removed"`}>
    <td class="num">${String(rule.id)}</td><td>${describeRule(rule)}</td><td>${rule.reason}</td>
    <td>${rule.enabled ? html`<span class="ok">in force</span>` : 'removed'}</td>
    <td class="nowrap">${rule.createdBy}, ${formatDateTime(rule.createdAt, timeZone)}</td>
    <td><details class="actions"><summary>History</summary>${history}</details></td>
    <td>${isAdmin ? html`<form method="post" action="/data/data-quality/rules/${action}" class="inline"><input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="id" value="${String(rule.id)}"><button type="submit" class="${rule.enabled ? 'danger' : 'secondary'}">${rule.enabled ? 'Remove' : 'Bring back'}</button></form>` : ''}</td></tr>`;
}

async function renderPage(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, outcome: { error?: string; prefill?: Prefill } = {}) {
  const { pool, config } = deps;
  const rules = await listRules(pool);
  const isAdmin = request.session!.user.isAdmin;
  const csrf = request.session!.csrfToken;
  const tz = config.timeZone;
  const prefill: Prefill = outcome.prefill ?? Object.fromEntries(FIELDS.map((name) => [name, field(request.query as Record<string, unknown>, name)]));
  const histories = await Promise.all(rules.map(async (rule) => html`<ul class="small">${(await ruleHistory(pool, rule.id)).map((h) => html`<li>${formatDateTime(h.changedAt, tz)}: ${h.action} by ${h.changedBy}</li>`)}</ul>`));
  const input = (name: (typeof FIELDS)[number], label: string, placeholder: string, size = 18) => html`<label>${label} <input type="text" name="${name}" value="${prefill[name] ?? ''}" placeholder="${placeholder}" size="${String(size)}"></label>`;
  const form = isAdmin
    ? html`<section class="panel"><h2>New exclusion rule</h2>
      <p class="small muted">A rule leaves out the points that meet all the conditions you fill in (at least one). Nothing is deleted: remove the rule and they are back.</p>
      <form method="post" action="/data/data-quality/rules" class="toolbar">
        <input type="hidden" name="_csrf" value="${csrf}">
        ${input('source', 'Source', 'dev-01')} ${input('group', 'Group', 'pilot')} ${input('user_agent', 'User agent (regular expression)', 'HeadlessChrome|Puppeteer', 24)}
        ${input('type', 'Data type', 'webmunk-history-visit')} ${input('from', 'Created from', '2026-01-01', 12)} ${input('to', 'to', '2026-02-01', 12)}
        ${input('reason', 'Reason', 'the team\'s test install', 36)}
        <button type="submit">Make the rule</button>
      </form>
      <p class="small muted">Or from a terminal: <code>dcs exclusions add --reason TEXT --source ID</code> (<code>dcs exclusions</code> for all options).</p></section>`
    : html`<p class="muted">Only an administrator can make or remove rules.</p>`;
  const body = html`<h1>Data quality</h1>${outcomeNotice(request)}
    ${outcome.error ? html`<p class="notice error" role="alert">${outcome.error}</p>` : ''}
    <p>Exclusion rules leave points out of every export (the dashboard's, <code>dcs export</code>, the nightly export), of the alerts (a source a rule takes out whole raises none) and of the PDK query API (a caller may ask for them with <code>include_excluded=true</code>). Each export's README.txt lists the rules in force and what each removed; <code>excluded-points.txt</code> lists the points.</p>
    ${form}
    <h2>Rules</h2>
    ${rules.length === 0 ? html`<p class="muted">No rules yet: every point is exported.</p>` : html`<div class="table-scroll"><table class="data">
      <thead><tr><th class="num">Rule</th><th>Leaves out</th><th>Reason</th><th>State</th><th>Made</th><th></th><th></th></tr></thead>
      <tbody>${rules.map((rule, i) => ruleRow(rule, histories[i], isAdmin, csrf, tz))}</tbody></table></div>`}`;
  return sendPage(request, reply, { title: 'Data quality', current: 'data-quality', body, status: outcome.error ? 400 : 200 });
}

export function registerDataQualityPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, log } = deps;
  scope.get('/data-quality', (request, reply) => renderPage(deps, request, reply));

  scope.post('/data-quality/rules', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const form = (request.body ?? {}) as FormFields;
    const fields = ruleFields(form);
    const problem = await ruleProblem(pool, fields);
    if (problem) return renderPage(deps, request, reply, { error: problem, prefill: Object.fromEntries(FIELDS.map((name) => [name, field(form, name)])) });
    const id = await addRule(pool, fields, user.username);
    log.info({ user: user.username, rule: id }, 'exclusion rule made from the dashboard');
    return reply.redirect(withOutcome(request, '/data/data-quality', { done: 'rule-made', subject: String(id) }), 303);
  });

  for (const action of ['remove', 'enable'] as const) {
    scope.post(`/data-quality/rules/${action}`, async (request, reply) => {
      const user = request.session!.user;
      if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
      const id = Number(field((request.body ?? {}) as FormFields, 'id'));
      const changed = Number.isSafeInteger(id) && id > 0 && await setRuleEnabled(pool, id, action === 'enable', user.username);
      if (!changed) return reply.redirect(withOutcome(request, '/data/data-quality', { failed: 'unknown-rule' }), 303);
      log.info({ user: user.username, rule: id, action }, 'exclusion rule changed from the dashboard');
      return reply.redirect(withOutcome(request, '/data/data-quality', { done: action === 'enable' ? 'rule-enabled' : 'rule-removed', subject: String(id) }), 303);
    });
  }
}
