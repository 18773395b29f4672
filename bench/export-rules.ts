/**
 * Exclusion rules for the export bench (issue 21 §5: an export with 20 active rules no slower
 * than 0.8× one without): the kinds a study team writes, each matching points of the bench's
 * data (bench/element-show-uploads.ts): test installs by source, two groups, automated and
 * pre-release browsers by user agent, data types, a bad day, a clock-skew week, and combinations.
 * Made through the rules' own repository, so they are resolved as any export resolves them.
 */
import type pg from 'pg';
import type { PoolClient } from '../src/db/database.ts';
import { addRule, setRuleEnabled, type RuleFields } from '../src/data-quality/exclusion-rules.repository.ts';
import { elementShowSource } from './element-show-uploads.ts';

const SHOW = 'webmunk-extension-element-show';
const BY = 'bench';
const at = (iso: string) => new Date(iso);

/** The sources put in groups a rule names (as the dashboard or the query API would). */
const GROUPS: Record<string, number[]> = {
  'pilot wave (retired)': [480, 481, 482, 483, 484, 485, 486, 487, 488, 489],
  'study staff': [10, 11, 12, 13, 14],
};

/** Twenty rules, in the proportions a study might reach: most name a few sources. */
function benchRules(): RuleFields[] {
  const testInstall = (index: number): RuleFields => ({ source: elementShowSource(index), reason: 'test install by the team (flag: test identifier)' });
  return [
    // 8 test installs: 1.6% of the 500 sources
    ...[3, 88, 161, 204, 275, 318, 399, 466].map(testInstall),
    { groupName: 'pilot wave (retired)', reason: 'pilot wave: consent form v1, not analysed' },
    { groupName: 'study staff', reason: 'staff machines' },
    // matched by the statistics job's user_agent_sources: 10 and 5 sources
    { userAgentPattern: 'HeadlessChrome', reason: 'automated browser (flag: automated browser)' },
    { userAgentPattern: 'Study Browser Extension/0\\.3[0-5]\\M', reason: 'pre-release extension build' },
    // types outside the element-show export, in the nightly's
    { generatorId: 'webmunk-extension-log-elements', reason: 'debug logging, not study data' },
    { generatorId: 'webmunk-extension-scroll-position', reason: 'scroll positions wrong in 0.39' },
    { createdFrom: at('2026-11-03T00:00:00Z'), createdTo: at('2026-11-04T00:00:00Z'), reason: 'time server outage: times unreliable' },
    { source: elementShowSource(120), generatorId: SHOW, reason: 'element-show broken on this machine (ad blocker)' },
    { source: elementShowSource(250), generatorId: SHOW, reason: 'element-show broken on this machine (ad blocker)' },
    { generatorId: SHOW, createdFrom: at('2026-10-28T06:00:00Z'), createdTo: at('2026-10-28T18:00:00Z'), reason: 'release 0.39.1 showed tiles twice' },
    { generatorId: SHOW, createdFrom: at('2026-11-12T00:00:00Z'), createdTo: at('2026-11-14T00:00:00Z'), reason: 'Amazon page redesign: tiles misread' },
    { source: elementShowSource(300), createdFrom: at('2026-11-06T00:00:00Z'), createdTo: at('2026-11-13T00:00:00Z'), reason: 'clock skew: a week 3 years off (flag: clock skew)' },
  ];
}

/** Puts the groups' sources in their groups and adds `count` of the rules (all 20 at most), enabled; returns their ids. */
export async function addBenchRules(db: pg.Client, count: number): Promise<number[]> {
  const rules = benchRules();
  if (count > rules.length) throw new Error(`BENCH_EXPORT_RULES: at most ${rules.length} rules`);
  for (const [name, indexes] of Object.entries(GROUPS)) {
    await db.query(
      `WITH g AS (INSERT INTO source_groups (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id)
       UPDATE data_sources SET group_id = (SELECT id FROM g) WHERE source = ANY($2::text[])`,
      [name, indexes.map(elementShowSource)],
    );
  }
  const client = db as unknown as PoolClient;
  await db.query(`DELETE FROM exclusion_rule_history WHERE rule_id IN (SELECT id FROM exclusion_rules WHERE created_by = $1)`, [BY]);
  await db.query(`DELETE FROM exclusion_rules WHERE created_by = $1`, [BY]);
  const ids: number[] = [];
  for (const rule of rules.slice(0, count)) ids.push(await addRule(client, rule, BY));
  return ids;
}

/** Enables or disables the bench's rules (between the runs with and without them). */
export async function setBenchRules(db: pg.Client, ids: readonly number[], enabled: boolean): Promise<void> {
  for (const id of ids) await setRuleEnabled(db as unknown as PoolClient, id, enabled, BY);
}
