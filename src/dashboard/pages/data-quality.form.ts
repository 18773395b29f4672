/**
 * The exclusion-rule form of the Data quality page (new and edit): its fields as typed, read back
 * into RuleFields, and filled in from a rule (its times as ISO text ruleTime reads back), so a
 * refused form comes back with what the administrator typed.
 */
import { ruleTime, typedTime, type ExclusionRule, type RuleFields } from '../../data-quality/exclusion-rules.repository.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { FormFields } from '../dashboard-deps.ts';

export const FIELDS = ['source', 'group', 'user_agent', 'type', 'from', 'to', 'reason'] as const;
/** The form's fields as typed. */
export type Prefill = Partial<Record<(typeof FIELDS)[number], string>>;

export function field(form: FormFields | Record<string, unknown>, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? String(value[0] ?? '') : typeof value === 'string' ? value : '').trim();
}

export function typedFields(form: FormFields | Record<string, unknown>): Prefill {
  return Object.fromEntries(FIELDS.map((name) => [name, field(form, name)]));
}

export function ruleFields(form: FormFields): RuleFields {
  const text = (name: string) => field(form, name) || null;
  return {
    source: text('source'), groupName: text('group'), userAgentPattern: text('user_agent'), generatorId: text('type'),
    createdFrom: ruleTime(field(form, 'from')), createdTo: ruleTime(field(form, 'to')), reason: field(form, 'reason'),
  };
}

/** A rule's fields as the form shows them for editing. */
export function ruleAsTyped(rule: ExclusionRule): Prefill {
  return {
    source: rule.source ?? '', group: rule.groupName ?? '', user_agent: rule.userAgentPattern ?? '', type: rule.generatorId ?? '',
    from: typedTime(rule.createdFrom), to: typedTime(rule.createdTo), reason: rule.reason,
  };
}

/** The form: a new rule, or (editing: its id) a rule's new conditions and reason. */
export function ruleForm(prefill: Prefill, csrf: string, editing?: number): SafeHtml {
  // no examples in an edited rule's empty fields: they would read as its conditions
  const input = (name: (typeof FIELDS)[number], label: string, example: string, size = 18) => html`<label>${label} <input type="text" name="${name}" value="${prefill[name] ?? ''}"${editing === undefined ? html` placeholder="${example}"` : ''} size="${String(size)}"></label>`;
  return html`<section class="panel" id="rule-form"><h2>${editing === undefined ? 'New exclusion rule' : `Edit rule ${editing}`}</h2>
      <p class="small muted">${editing === undefined
        ? 'A rule leaves out the points that meet all the conditions you fill in (at least one). Nothing is deleted: remove the rule and they are back.'
        : 'The rule leaves out the points that meet all the conditions below (at least one); clear a field to drop its condition. The history keeps the rule as it was.'}</p>
      <form method="post" action="/data/data-quality/rules${editing === undefined ? '' : '/edit'}" class="toolbar">
        <input type="hidden" name="_csrf" value="${csrf}">${editing === undefined ? '' : html`<input type="hidden" name="id" value="${String(editing)}">`}
        ${input('source', 'Source', 'dev-01')} ${input('group', 'Group', 'pilot')} ${input('user_agent', 'User agent (regular expression)', 'HeadlessChrome|Puppeteer', 24)}
        ${input('type', 'Data type', 'webmunk-history-visit')} ${input('from', 'Created from', '2026-01-01', 12)} ${input('to', 'to', '2026-02-01', 12)}
        ${input('reason', 'Reason', 'the team\'s test install', 36)}
        ${editing === undefined ? html`<button type="submit">Make the rule</button>` : html`<button type="submit">Save the rule</button> <a class="button secondary" href="/data/data-quality">Cancel</a>`}
      </form>
      <p class="small muted">Or from a terminal: <code>dcs exclusions ${editing === undefined ? 'add --reason TEXT --source ID' : `edit ${editing} --type T`}</code> (<code>dcs exclusions</code> for all options).</p></section>`;
}
