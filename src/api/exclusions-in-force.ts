/**
 * The exclusion rules the query API applies (issue 21 §2): the enrollment server polls every
 * participant every 15 minutes, so the rules are resolved to sources (a user-agent pattern over
 * every source's user agents) at most once per RULES_TTL_MS per process, or when a rule changed
 * (one look at the rules table per call), not per call. A caller that sends
 * `include_excluded=true` gets every point.
 */
import type { Pool } from '../db/database.ts';
import { DcsError } from '../errors.ts';
import { resolvedRules, rulesVersion, type ResolvedRule } from '../data-quality/exclusion-rules.repository.ts';
import type { ApiFields } from './api-request.ts';

const RULES_TTL_MS = 30_000;

export function includeExcluded(fields: ApiFields): boolean {
  const value = fields.include_excluded;
  if (value === undefined) return false;
  if (value === 'true' || value === '1' || value === true) return true;
  if (value === 'false' || value === '0' || value === false) return false;
  throw new DcsError('DCS_ERR_API_QUERY', '"include_excluded" is true or false.');
}

export function exclusionsInForce(pool: Pool): () => Promise<readonly ResolvedRule[]> {
  let cached: { at: number; version: string; rules: ResolvedRule[] } | undefined;
  return async () => {
    // a rule made, edited or removed applies at once; what a group or pattern resolves to, within RULES_TTL_MS
    const version = await rulesVersion(pool);
    if (!cached || cached.version !== version || Date.now() - cached.at > RULES_TTL_MS) {
      cached = { at: Date.now(), version, rules: await resolvedRules(pool) };
    }
    return cached.rules;
  };
}
