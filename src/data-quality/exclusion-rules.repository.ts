/** Exclusion rules (migration 0026): made, edited, disabled and enabled with their history; resolved for reading. */
import type { Pool, PoolClient } from '../db/database.ts';
import { RULES_VERSION, type ResolvedRule } from './exclusion-sql.ts';

export type { ResolvedRule };

type Db = Pool | PoolClient;

export interface RuleFields {
  source?: string | null;
  groupName?: string | null;
  userAgentPattern?: string | null;
  generatorId?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
  reason: string;
}

export interface ExclusionRule extends Required<RuleFields> {
  id: number;
  enabled: boolean;
  createdBy: string;
  createdAt: Date;
  updatedBy: string;
  updatedAt: Date;
}


const COLUMNS = `id::int, source, group_name AS "groupName", user_agent_pattern AS "userAgentPattern", generator_id AS "generatorId",
  created_from AS "createdFrom", created_to AS "createdTo", reason, enabled, created_by AS "createdBy", created_at AS "createdAt",
  updated_by AS "updatedBy", updated_at AS "updatedAt"`;

async function recordHistory(db: Db, id: number, by: string, action: string): Promise<void> {
  await db.query(
    `INSERT INTO exclusion_rule_history (rule_id, changed_by, action, rule)
     SELECT id, $2, $3, to_jsonb(r) - 'id' FROM exclusion_rules r WHERE id = $1`,
    [id, by, action],
  );
}

/** Changes whenever a rule is made, edited, removed or enabled (readers that cache resolved rules compare it). */
export async function rulesVersion(db: Db): Promise<string> {
  const { rows } = await db.query(`SELECT ${RULES_VERSION} AS version`);
  return rows[0].version;
}

export async function listRules(db: Db): Promise<ExclusionRule[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM exclusion_rules ORDER BY enabled DESC, id`);
  return rows;
}

export async function ruleById(db: Db, id: number): Promise<ExclusionRule | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM exclusion_rules WHERE id = $1`, [id]);
  return rows[0];
}

export async function addRule(db: Db, fields: RuleFields, by: string): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO exclusion_rules (source, group_name, user_agent_pattern, generator_id, created_from, created_to, reason, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id::int`,
    [fields.source ?? null, fields.groupName ?? null, fields.userAgentPattern ?? null, fields.generatorId ?? null,
      fields.createdFrom ?? null, fields.createdTo ?? null, fields.reason, by],
  );
  await recordHistory(db, rows[0].id, by, 'created');
  return rows[0].id;
}

/**
 * Replaces a rule's conditions and reason (check them with ruleProblem first); a removed rule stays
 * removed. The history keeps the rule as it was after each change, so every version is there in
 * order. False when there is no such rule.
 */
export async function editRule(db: Db, id: number, fields: RuleFields, by: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE exclusion_rules SET source = $2, group_name = $3, user_agent_pattern = $4, generator_id = $5, created_from = $6, created_to = $7,
            reason = $8, updated_by = $9, updated_at = now() WHERE id = $1`,
    [id, fields.source || null, fields.groupName || null, fields.userAgentPattern || null, fields.generatorId || null,
      fields.createdFrom ?? null, fields.createdTo ?? null, fields.reason, by],
  );
  if (rowCount) await recordHistory(db, id, by, 'edited');
  return Boolean(rowCount);
}

/** Disables or enables a rule; false when there is no such rule or it already was. */
export async function setRuleEnabled(db: Db, id: number, enabled: boolean, by: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE exclusion_rules SET enabled = $2, updated_by = $3, updated_at = now() WHERE id = $1 AND enabled <> $2',
    [id, enabled, by],
  );
  if (rowCount) await recordHistory(db, id, by, enabled ? 'enabled' : 'disabled');
  return Boolean(rowCount);
}

/** One change to a rule: who did what when, and the rule as it was afterwards. */
export interface RuleVersion {
  changedAt: Date;
  changedBy: string;
  action: 'created' | 'edited' | 'disabled' | 'enabled';
  rule: RuleFields & { enabled: boolean };
}

export async function ruleHistory(db: Db, id: number): Promise<RuleVersion[]> {
  const { rows } = await db.query(
    `SELECT changed_at AS "changedAt", changed_by AS "changedBy", action, rule FROM exclusion_rule_history WHERE rule_id = $1 ORDER BY changed_at, action`,
    [id],
  );
  // the rule as to_jsonb wrote it: the table's column names, times as text
  const time = (value: unknown) => (typeof value === 'string' ? new Date(value) : null);
  return rows.map(({ rule, ...change }) => ({
    ...change,
    rule: {
      source: rule.source, groupName: rule.group_name, userAgentPattern: rule.user_agent_pattern, generatorId: rule.generator_id,
      createdFrom: time(rule.created_from), createdTo: time(rule.created_to), reason: rule.reason, enabled: rule.enabled,
    },
  }));
}

/**
 * The enabled rules as they apply now: a group is the sources in it, a user-agent pattern the
 * sources seen with a matching user agent (user_agent_sources, kept by the statistics job). A rule
 * whose group or pattern names no source matches nothing.
 */
export async function resolvedRules(db: Db): Promise<ResolvedRule[]> {
  const { rows } = await db.query(
    `SELECT r.id::int, r.reason, r.generator_id AS "generatorId", r.created_from AS "createdFrom", r.created_to AS "createdTo",
            r.source, r.group_name AS "groupName", r.user_agent_pattern AS "userAgentPattern",
            r.source IS NULL AND r.group_name IS NULL AND r.user_agent_pattern IS NULL AS "anySource",
            ARRAY(
              SELECT s.source FROM data_sources s
              WHERE (r.source IS NULL OR s.source = r.source)
                AND (r.group_name IS NULL OR s.group_id = (SELECT id FROM source_groups WHERE name = r.group_name))
                AND (r.user_agent_pattern IS NULL OR EXISTS (
                      SELECT 1 FROM user_agent_sources u WHERE u.source = s.source AND u.user_agent ~* r.user_agent_pattern))
              UNION SELECT r.source WHERE r.source IS NOT NULL AND r.group_name IS NULL AND r.user_agent_pattern IS NULL
            ) AS sources
     FROM exclusion_rules r WHERE r.enabled ORDER BY r.id`,
  );
  return rows.map(({ anySource, sources, source, groupName, userAgentPattern, ...rule }) => ({
    ...rule,
    sources: anySource ? null : sources,
    description: describeRule({ source, groupName, userAgentPattern, generatorId: rule.generatorId, createdFrom: rule.createdFrom, createdTo: rule.createdTo }),
  }));
}

/** A rule's time as typed (CLI, form): a date alone is midnight UTC; empty is no limit. An unreadable one is an Invalid Date, which ruleProblem refuses. */
export function ruleTime(text: string | undefined): Date | null {
  return text === undefined || text === '' ? null : new Date(/^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : text);
}

/** A rule's time as ruleTime reads it back (the edit form, the CLI): a date alone for midnight UTC, otherwise ISO 8601 in UTC. */
export function typedTime(time: Date | null): string {
  if (!time) return '';
  const iso = time.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
}

/** A rule's conditions in words: `source "dev-01", type webmunk-history-visit, created 2026-01-01T00:00:00.000Z to …`. */
export function describeRule(rule: Omit<RuleFields, 'reason'>): string {
  const parts: string[] = [];
  if (rule.source) parts.push(`source ${JSON.stringify(rule.source)}`);
  if (rule.groupName) parts.push(`group ${JSON.stringify(rule.groupName)}`);
  if (rule.userAgentPattern) parts.push(`user agent matching /${rule.userAgentPattern}/i`);
  if (rule.generatorId) parts.push(`type ${rule.generatorId}`);
  if (rule.createdFrom || rule.createdTo) parts.push(`created ${rule.createdFrom?.toISOString() ?? 'any time'} to ${rule.createdTo?.toISOString() ?? 'now'}`);
  return parts.join(', ');
}

/** Why these fields do not make a rule (undefined: they do). The user-agent pattern is checked by PostgreSQL, whose dialect applies it. */
export async function ruleProblem(db: Db, fields: RuleFields): Promise<string | undefined> {
  const conditions = [fields.source, fields.groupName, fields.userAgentPattern, fields.generatorId, fields.createdFrom, fields.createdTo];
  if (conditions.every((value) => value === undefined || value === null || value === '')) {
    return 'A rule needs at least one condition: a source, a group, a user-agent pattern, a data type or a time window.';
  }
  if (!fields.reason.trim() || fields.reason.length > 1000) return 'A rule needs a reason (1 to 1,000 characters): the exports print it.';
  for (const date of [fields.createdFrom, fields.createdTo]) if (date && Number.isNaN(date.getTime())) return 'A time is an ISO date or date and time, e.g. 2026-11-30 or 2026-11-30T12:00:00Z.';
  if (fields.createdFrom && fields.createdTo && fields.createdFrom >= fields.createdTo) return 'The time window ends before it starts.';
  if (fields.userAgentPattern) {
    try {
      await db.query(`SELECT '' ~* $1`, [fields.userAgentPattern]);
    } catch (error) {
      return `The user-agent pattern is not a regular expression PostgreSQL reads: ${(error as Error).message}`;
    }
  }
  return undefined;
}
