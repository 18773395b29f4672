/**
 * /data/data-quality: the exclusion rules (docs/data-quality.md). Staff see every rule, what it
 * matches, why, who made and changed it; administrators make a rule (a flag's "Exclude" link
 * fills the form in), edit one (the same form, filled in with the rule), remove one (it stops
 * applying, its history stays) or bring it back; the history keeps every version. Rules
 * never delete anything: exports, alerts and the query API leave their points out when reading.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  addRule, describeRule, editRule, listRules, ruleById, ruleHistory, ruleProblem, setRuleEnabled, type ExclusionRule, type RuleVersion,
} from '../../data-quality/exclusion-rules.repository.ts';
import { withTransaction } from '../../db/transaction.ts';
import { DcsError } from '../../errors.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { formatDateTime } from '../format.ts';
import { field, ruleAsTyped, ruleFields, ruleForm, typedFields, type Prefill } from './data-quality.form.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { sendPage } from './page.ts';

/** What the page shows besides the rules: a refused form (its error, what was typed, the rule being edited). */
interface FormState { error?: string; status?: number; prefill?: Prefill; editing?: number }

/** A change in the history; a made or edited rule with what it was then, so the versions read in order. */
function historyEntry(change: RuleVersion, timeZone: string): SafeHtml {
  const version = change.action === 'created' || change.action === 'edited' ? html`: ${describeRule(change.rule)}, ${JSON.stringify(change.rule.reason)}` : '';
  return html`<li>${formatDateTime(change.changedAt, timeZone)}: ${change.action} by ${change.changedBy}${version}</li>`;
}

/** A rule's row; the history of the rule being edited is open, so its earlier versions are in sight. */
function ruleRow(rule: ExclusionRule, history: SafeHtml, isAdmin: boolean, csrf: string, timeZone: string, editing?: number): SafeHtml {
  const action = rule.enabled ? 'remove' : 'enable';
  return html`<tr${rule.enabled ? '' : html` class="removed"`}>
    <td class="num">${String(rule.id)}</td><td>${describeRule(rule)}</td><td>${rule.reason}</td>
    <td>${rule.enabled ? html`<span class="ok">in force</span>` : 'removed'}</td>
    <td class="nowrap">${rule.createdBy}, ${formatDateTime(rule.createdAt, timeZone)}</td>
    <td><details class="actions"${rule.id === editing ? html` open` : ''}><summary>History</summary>${history}</details></td>
    <td class="nowrap">${isAdmin ? html`<a class="button secondary" href="/data/data-quality?edit=${String(rule.id)}#rule-form">Edit</a>
      <form method="post" action="/data/data-quality/rules/${action}" class="inline"><input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="id" value="${String(rule.id)}"><button type="submit" class="${rule.enabled ? 'danger' : 'secondary'}">${rule.enabled ? 'Remove' : 'Bring back'}</button></form>` : ''}</td></tr>`;
}

async function renderPage(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, state: FormState = {}) {
  const { pool, config } = deps;
  const rules = await listRules(pool);
  const isAdmin = request.session!.user.isAdmin;
  const csrf = request.session!.csrfToken;
  const tz = config.timeZone;
  const histories = await Promise.all(rules.map(async (rule) => html`<ul class="small">${(await ruleHistory(pool, rule.id)).map((change) => historyEntry(change, tz))}</ul>`));
  const form = isAdmin
    ? ruleForm(state.prefill ?? typedFields(request.query as Record<string, unknown>), csrf, state.editing)
    : html`<p class="muted">Only an administrator can make, edit or remove rules.</p>`;
  const body = html`<h1>Data quality</h1>${outcomeNotice(request)}
    ${state.error ? html`<p class="notice error" role="alert">${state.error}</p>` : ''}
    <p>Exclusion rules leave points out of every export (the dashboard's, <code>dcs export</code>, the nightly export), of the statistics and the products' counts (within 5 minutes; by whole days), of the alerts (a source a rule takes out whole raises none) and of the PDK query API (a caller may ask for them with <code>include_excluded=true</code>). Nothing is deleted: removing a rule brings its points back. Each export's README.txt lists the rules in force and what each removed; <code>excluded-points.txt</code> lists the points.</p>
    ${form}
    <h2>Rules</h2>
    ${rules.length === 0 ? html`<p class="muted">No rules yet: every point is exported.</p>` : html`<div class="table-scroll"><table class="data">
      <thead><tr><th class="num">Rule</th><th>Leaves out</th><th>Reason</th><th>State</th><th>Made</th><th></th><th></th></tr></thead>
      <tbody>${rules.map((rule, i) => ruleRow(rule, histories[i], isAdmin, csrf, tz, state.editing))}</tbody></table></div>`}`;
  return sendPage(request, reply, { title: 'Data quality', current: 'data-quality', body, status: state.status ?? (state.error ? 400 : 200) });
}

export function registerDataQualityPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, log } = deps;
  scope.get('/data-quality', async (request, reply) => {
    const editing = field(request.query as Record<string, unknown>, 'edit');
    if (!editing || !request.session!.user.isAdmin) return renderPage(deps, request, reply);
    const rule = /^\d{1,15}$/.test(editing) ? await ruleById(pool, Number(editing)) : undefined;
    if (!rule) return renderPage(deps, request, reply, { error: 'That exclusion rule does not exist.', status: 404, prefill: {} });
    return renderPage(deps, request, reply, { prefill: ruleAsTyped(rule), editing: rule.id });
  });

  scope.post('/data-quality/rules', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const form = (request.body ?? {}) as FormFields;
    const fields = ruleFields(form);
    const problem = await ruleProblem(pool, fields);
    if (problem) return renderPage(deps, request, reply, { error: problem, prefill: typedFields(form) });
    const id = await addRule(pool, fields, user.username);
    log.info({ user: user.username, rule: id }, 'exclusion rule made from the dashboard');
    return reply.redirect(withOutcome(request, '/data/data-quality', { done: 'rule-made', subject: String(id) }), 303);
  });

  scope.post('/data-quality/rules/edit', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const form = (request.body ?? {}) as FormFields;
    const id = Number(field(form, 'id'));
    if (!Number.isSafeInteger(id) || id <= 0) return reply.redirect(withOutcome(request, '/data/data-quality', { failed: 'unknown-rule' }), 303);
    const fields = ruleFields(form);
    const problem = await ruleProblem(pool, fields);
    if (problem) return renderPage(deps, request, reply, { error: problem, prefill: typedFields(form), editing: id });
    const edited = await withTransaction(pool, (client) => editRule(client, id, fields, user.username));
    if (!edited) return reply.redirect(withOutcome(request, '/data/data-quality', { failed: 'unknown-rule' }), 303);
    log.info({ user: user.username, rule: id }, 'exclusion rule edited from the dashboard');
    return reply.redirect(withOutcome(request, '/data/data-quality', { done: 'rule-edited', subject: String(id) }), 303);
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
