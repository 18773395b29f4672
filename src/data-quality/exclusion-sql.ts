/**
 * Exclusion rules as SQL: over `data_points` columns (source, generator_id, created), for readers
 * that must leave excluded points out, and over the per-day statistics (excludedDays, dayCounted).
 * Values are quoted by the caller's driver (a COPY takes no parameters), so a rule's fields can
 * never change the statement's shape.
 */

/** An enabled rule, its group and user-agent pattern resolved to the sources they name now. */
export interface ResolvedRule {
  id: number;
  reason: string;
  /** what the rule matches, in words (for README.txt and the CLI) */
  description: string;
  /** the sources the rule is limited to (its source, group and user agents together); null: any source */
  sources: string[] | null;
  generatorId: string | null;
  createdFrom: Date | null;
  createdTo: Date | null;
}

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

/**
 * The version of the rules in the reading statement's own snapshot: a hash of every rule's
 * content, so making, editing, disabling or enabling one changes it (a time of last change would
 * miss a change committed after a later one).
 */
export const RULES_VERSION = `(SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r.id), '')) FROM exclusion_rules r)`;

/**
 * Each enabled rule with each source it applies to now (its source, group and user agents), as
 * rows (source, generator_id, created_from, created_to; null: no limit). `sources` (an SQL
 * relation with a `source` column) limits the rows to those sources.
 */
function ruleScopes(sources?: string): string {
  return `
    SELECT s.source, r.generator_id, r.created_from, r.created_to
    FROM exclusion_rules r
    JOIN data_sources s ON r.source IS NULL OR s.source = r.source
    LEFT JOIN source_groups sg ON sg.id = s.group_id
    WHERE r.enabled
      AND (r.group_name IS NULL OR sg.name = r.group_name)
      AND (r.user_agent_pattern IS NULL OR EXISTS (
            SELECT 1 FROM user_agent_sources u WHERE u.source = s.source AND u.user_agent ~* r.user_agent_pattern))
      ${sources ? `AND s.source IN (SELECT source FROM ${sources})` : ''}`;
}

/**
 * For statistics, kept per source, data type and day: the days each enabled rule excludes for
 * each source it applies to, as rows (source, generator_id: null for any type, first_day and
 * last_day: null for no limit). A rule limited in time excludes the days (in `timeZone`, an SQL
 * expression) that its window covers whole; the days at its edges stay counted, and a window
 * shorter than a day leaves the statistics alone (exports apply it to the microsecond).
 * `sources` as ruleScopes.
 */
export function excludedDays(timeZone: string, sources?: string): string {
  return `
    SELECT r.source, r.generator_id,
           ((r.created_from - interval '1 microsecond') AT TIME ZONE ${timeZone})::date + 1 AS first_day,
           (r.created_to AT TIME ZONE ${timeZone})::date - 1 AS last_day
    FROM (${ruleScopes(sources)}) AS r`;
}

/** True for a per-day statistics row (`row`: source, generator_id, day) that no rule in `excluded` (excludedDays) leaves out. */
export function dayCounted(row: string, excluded: string): string {
  return `NOT EXISTS (
    SELECT 1 FROM ${excluded} x
    WHERE x.source = ${row}.source AND (x.generator_id IS NULL OR x.generator_id = ${row}.generator_id)
      AND (x.first_day IS NULL OR ${row}.day >= x.first_day) AND (x.last_day IS NULL OR ${row}.day <= x.last_day))`;
}

/** For the ASIN harvest's counts: each enabled rule with each source it applies to (ruleScopes). */
export const excludedSightings = ruleScopes;

/**
 * True for a product sighting (`row`: source, generator_id, first_seen, last_seen: the points of
 * one source and type that carried the product) that no rule in `excluded` (excludedSightings)
 * leaves out. A rule limited in time leaves it out when its window holds all of the sighting's
 * points, first to last.
 */
export function sightingCounted(row: string, excluded: string): string {
  return `NOT EXISTS (
    SELECT 1 FROM ${excluded} x
    WHERE x.source = ${row}.source AND (x.generator_id IS NULL OR x.generator_id = ${row}.generator_id)
      AND (x.created_from IS NULL OR ${row}.first_seen >= x.created_from) AND (x.created_to IS NULL OR ${row}.last_seen < x.created_to))`;
}
