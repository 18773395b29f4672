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

/** The sources every one of whose points a rule excludes (no type or time limit): they raise no alerts. */
export function wholeSourcesExcluded(rules: readonly ResolvedRule[]): Set<string> {
  return new Set(rules.filter((rule) => rule.sources && !rule.generatorId && !rule.createdFrom && !rule.createdTo).flatMap((rule) => rule.sources!));
}
