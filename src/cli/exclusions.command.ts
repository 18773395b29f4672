/** `dcs exclusions list | add … | remove ID | enable ID`: the exclusion rules (docs/data-quality.md). */
import { parseArgs } from 'node:util';
import type { Pool } from '../db/database.ts';
import {
  addRule, describeRule, listRules, ruleProblem, ruleTime, setRuleEnabled, type RuleFields,
} from '../data-quality/exclusion-rules.repository.ts';

export const EXCLUSIONS_USAGE = `Usage:
  dcs exclusions list     every rule: what it matches, why, who made it, whether it is in force
  dcs exclusions add --reason TEXT [--source ID] [--group NAME] [--user-agent REGEX] [--type GENERATOR]
                     [--from TIME] [--to TIME] [--by NAME]
                          a rule leaving out the points that meet all its conditions (at least one),
                          from exports, statistics and alerts, and the query API; nothing is deleted
  dcs exclusions remove ID  the rule stops applying (it stays in the history; enable brings it back)
  dcs exclusions enable ID`;

const OPTIONS = {
  reason: { type: 'string' }, source: { type: 'string' }, group: { type: 'string' }, 'user-agent': { type: 'string' },
  type: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, by: { type: 'string', default: 'dcs exclusions' },
} as const;

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
  if (action === 'list' && !id) {
    const rules = await listRules(pool);
    if (rules.length === 0) console.log('no exclusion rules: dcs exclusions add --reason TEXT --source ID');
    for (const rule of rules) {
      console.log(`${String(rule.id).padStart(4)}  ${rule.enabled ? 'in force' : 'removed '}  ${describeRule(rule)}`);
      console.log(`      ${JSON.stringify(rule.reason)}, by ${rule.createdBy} ${rule.createdAt.toISOString()}${rule.enabled ? '' : `, removed by ${rule.updatedBy} ${rule.updatedAt.toISOString()}`}`);
    }
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
