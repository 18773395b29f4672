/**
 * Identifier and context patterns: JavaScript regular expressions that must match the whole
 * identifier (`123` never matches `x123y`; the original searched anywhere in it,
 * ecosystem-api.md §4.2.2). They are written by administrators, but run on what any visitor sends,
 * so against catastrophic backtracking (ReDoS): a pattern with nested quantifiers such as `(a+)+`
 * is refused when saved (safe-regex2, fastify's star-height check), patterns are at most
 * MAX_PATTERN_LENGTH characters, and no pattern ever runs on an identifier or context longer than
 * MAX_IDENTIFIER_LENGTH (the request is refused before). What the check cannot see (overlapping
 * alternatives under a star, `(a|aa)*`) the length bound keeps small; docs/app-config.md asks for
 * plain patterns (prefixes, character classes, counted repeats).
 */
import safeRegex from 'safe-regex2';

/** Longest identifier or context evaluated (Webmunk ids are 8 digits; REX ids a few dozen characters). */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_PATTERN_LENGTH = 1000;

/** The pattern as it runs: anchored at both ends, Unicode mode. */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Why a pattern cannot be saved, or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'is empty (use .* to match everything)';
  if (pattern.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  let compiled: RegExp;
  try {
    compiled = compilePattern(pattern);
  } catch (error) {
    return `is not a regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  // Fastify's route constraints use the same check; it judges the pattern as it runs.
  if (!safeRegex(compiled)) return 'may take exponential time on some identifiers (a repeat inside a repeat, such as (a+)+); write it without nesting';
  return undefined;
}

/** Whether `pattern` matches all of `text` (callers bound the text's length first). */
export function matchesWhole(pattern: string, text: string): boolean {
  return compilePattern(pattern).test(text);
}
