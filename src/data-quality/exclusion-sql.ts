/**
 * Exclusion rules as SQL over `data_points` columns (source, generator_id, created), for readers
 * that must leave excluded points out. Values are quoted by the caller's driver (a COPY takes no
 * parameters), so a rule's fields can never change the statement's shape.
 */
import type { ResolvedRule } from './exclusion-rules.repository.ts';

type Quote = (text: string) => string;

/** The condition a point meets when `rule` excludes it. */
export function ruleMatches(rule: ResolvedRule, quote: Quote): string {
  const parts: string[] = [];
  if (rule.sources) parts.push(rule.sources.length === 0 ? 'false' : `source = ANY(ARRAY[${rule.sources.map(quote).join(',')}]::text[])`);
  if (rule.generatorId) parts.push(`generator_id = ${quote(rule.generatorId)}`);
  if (rule.createdFrom) parts.push(`created >= ${quote(rule.createdFrom.toISOString())}::timestamptz`);
  if (rule.createdTo) parts.push(`created < ${quote(rule.createdTo.toISOString())}::timestamptz`);
  return parts.length === 0 ? 'false' : `(${parts.join(' AND ')})`;
}

/** The condition a point meets when no rule excludes it ('true' without rules). */
export function notExcluded(rules: readonly ResolvedRule[], quote: Quote): string {
  return rules.length === 0 ? 'true' : `NOT (${rules.map((rule) => ruleMatches(rule, quote)).join(' OR ')})`;
}

/**
 * True for a data source (`s`, joined to its group `g`) all of whose points an enabled rule
 * excludes (a rule without type or time limits): such a source raises no alert.
 */
export const SOURCE_WHOLLY_EXCLUDED = `EXISTS (
  SELECT 1 FROM exclusion_rules r
  WHERE r.enabled AND r.generator_id IS NULL AND r.created_from IS NULL AND r.created_to IS NULL
    AND (r.source IS NULL OR r.source = s.source)
    AND (r.group_name IS NULL OR r.group_name = g.name)
    AND (r.user_agent_pattern IS NULL OR EXISTS (SELECT 1 FROM user_agent_sources u WHERE u.source = s.source AND u.user_agent ~* r.user_agent_pattern)))`;
