/** `dcs exclusions list | add … | edit ID … | remove ID | enable ID`: the exclusion rules (docs/data-quality.md). */
import { parseArgs } from 'node:util';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import {
  addRule, describeRule, editRule, listRules, ruleById, ruleProblem, ruleTime, setRuleEnabled, type ExclusionRule, type RuleFields,
} from '../data-quality/exclusion-rules.repository.ts';

export const EXCLUSIONS_USAGE = `Usage:
  dcs exclusions list     every rule: what it matches, why, who made it, whether it is in force
  dcs exclusions add --reason TEXT [--source ID] [--group NAME] [--user-agent REGEX] [--type GENERATOR]
                     [--from TIME] [--to TIME] [--by NAME]
                          a rule leaving out the points that meet all its conditions (at least one),
                          from exports, statistics and alerts, and the query API; nothing is deleted
  dcs exclusions edit ID [--source ID] [--group NAME] [--user-agent REGEX] [--type GENERATOR]
                     [--from TIME] [--to TIME] [--reason TEXT] [--by NAME]
                          changes a rule (removed or in force): an option not given keeps its value,
                          an empty one (--type '') drops that condition; the history keeps every version
  dcs exclusions remove ID  the rule stops applying (it stays in the history; enable brings it back)
  dcs exclusions enable ID`;

const OPTIONS = {
  reason: { type: 'string' }, source: { type: 'string' }, group: { type: 'string' }, 'user-agent': { type: 'string' },
  type: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, by: { type: 'string', default: 'dcs exclusions' },
  help: { type: 'boolean', short: 'h' },
} as const;
const EDITABLE = ['source', 'group', 'user-agent', 'type', 'from', 'to', 'reason'] as const;

/** A rule as `list` prints it: its state and conditions, then its reason, who made it and who changed it last. */
function ruleLines(rule: ExclusionRule): string {
  const changed = rule.updatedAt > rule.createdAt ? `, last changed by ${rule.updatedBy} ${rule.updatedAt.toISOString()}` : '';
  return `${String(rule.id).padStart(4)}  ${rule.enabled ? 'in force' : 'removed '}  ${describeRule(rule)}\n`
    + `      ${JSON.stringify(rule.reason)}, by ${rule.createdBy} ${rule.createdAt.toISOString()}${changed}`;
}

type Given = Partial<Record<(typeof EDITABLE)[number] | 'by', string>>;

/** The rule as it is after an edit: the options given replace its fields, an empty one clears it. */
function editedFields(rule: ExclusionRule, v: Given): RuleFields {
  const text = (given: string | undefined, kept: string | null) => (given === undefined ? kept : given.trim() || null);
  const time = (given: string | undefined, kept: Date | null) => (given === undefined ? kept : ruleTime(given.trim()));
  return {
    source: text(v.source, rule.source), groupName: text(v.group, rule.groupName), userAgentPattern: text(v['user-agent'], rule.userAgentPattern),
    generatorId: text(v.type, rule.generatorId), createdFrom: time(v.from, rule.createdFrom), createdTo: time(v.to, rule.createdTo),
    reason: v.reason ?? rule.reason,
  };
}

async function editCommand(pool: Pool, id: string, v: Given): Promise<number> {
  const rule = /^\d{1,15}$/.test(id) ? await ruleById(pool, Number(id)) : undefined;
  if (!rule) {
    console.error(`No rule ${id} (dcs exclusions list).`);
    return 1;
  }
  if (EDITABLE.every((name) => v[name] === undefined)) {
    console.error(`Nothing to change: give at least one of ${EDITABLE.map((name) => `--${name}`).join(', ')}.\n\n${EXCLUSIONS_USAGE}`);
    return 1;
  }
  const fields = editedFields(rule, v);
  const problem = await ruleProblem(pool, fields);
  if (problem) {
    console.error(`${problem}\nRule ${id} is unchanged.`);
    return 1;
  }
  await withTransaction(pool, (client) => editRule(client, rule.id, fields, v.by!));
  console.log(`rule ${id} edited${rule.enabled ? '' : ' (still removed: dcs exclusions enable brings it back)'}:\n${ruleLines((await ruleById(pool, rule.id))!)}`);
  return 0;
}

export async function exclusionsCommand(pool: Pool, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${EXCLUSIONS_USAGE}`);
    return 1;
  }
  const [action, id, ...extra] = parsed.positionals;
  const v = parsed.values;
  if (v.help) {
    console.log(EXCLUSIONS_USAGE);
    return 0;
  }
  if (action === 'list' && !id) {
    const rules = await listRules(pool);
    if (rules.length === 0) console.log('no exclusion rules: dcs exclusions add --reason TEXT --source ID');
    for (const rule of rules) console.log(ruleLines(rule));
    return 0;
  }
  if ((action === 'remove' || action === 'enable') && id && extra.length === 0) {
    if (!/^\d+$/.test(id) || !(await setRuleEnabled(pool, Number(id), action === 'enable', v.by!))) {
      console.error(`No rule ${id} that is ${action === 'enable' ? 'removed' : 'in force'} (dcs exclusions list).`);
      return 1;
    }
    console.log(`rule ${id} ${action === 'enable' ? 'is in force again' : 'no longer applies'}; exports from now on ${action === 'enable' ? 'leave its points out' : 'include its points'}`);
    return 0;
  }
  if (action === 'edit' && id && extra.length === 0) return editCommand(pool, id, v);
  if (action !== 'add' || id) {
    console.error(EXCLUSIONS_USAGE);
    return 1;
  }
  const fields: RuleFields = {
    reason: v.reason ?? '', source: v.source, groupName: v.group, userAgentPattern: v['user-agent'], generatorId: v.type,
    createdFrom: ruleTime(v.from), createdTo: ruleTime(v.to),
  };
  const problem = await ruleProblem(pool, fields);
  if (problem) {
    console.error(problem);
    return 1;
  }
  const created = await addRule(pool, fields, v.by!);
  console.log(`rule ${created} in force: ${describeRule(fields)}`);
  return 0;
}
