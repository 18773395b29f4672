/**
 * What makes each data-quality flag, apart from the queries (flags.repository.ts): the kinds, the
 * team's `*` patterns, and the thresholds from the configuration. docs/data-quality.md, "Flags".
 */
import type { Config } from '../config.ts';
import { automationSignatures } from '../monitoring/automated-browser.ts';

export const FLAG_KINDS = ['automated-browser', 'clock-skew', 'duplicate-storm', 'impossible-rate', 'interleaved', 'test-identifier'] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];

export const FLAG_LABELS: Record<FlagKind, string> = {
  'automated-browser': 'Automated browser',
  'clock-skew': 'Clock skew',
  'duplicate-storm': 'Duplicate storm',
  'impossible-rate': 'Impossible rate',
  interleaved: 'Interleaved agents or zones',
  'test-identifier': 'Test identifier',
};

/** What a flag's evidence count counts. */
export const EVIDENCE_UNITS: Record<FlagKind, string> = {
  'automated-browser': 'points from an automated user agent',
  'clock-skew': 'points with a clock off',
  'duplicate-storm': 'uploads of points all already stored',
  'impossible-rate': 'minutes over the rate limit',
  interleaved: 'switches within a short window',
  'test-identifier': 'points from a test identifier',
};

export const isFlagKind = (value: string): value is FlagKind => (FLAG_KINDS as readonly string[]).includes(value);

/** A point `created` more than this after it was `recorded` is from the future (clocks drift minutes, not an hour). */
export const FUTURE_TOLERANCE_MINUTES = 60;

/** Examples kept per flag: enough to see what happened, small enough for a page. */
export const MAX_EXAMPLES = 5;

/** What a run found for one source and kind, added to what earlier runs found. */
export interface Evidence {
  source: string;
  kind: FlagKind;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  examples: Record<string, unknown>[];
}

/** `dev-*`, `*HeadlessBot*`: `*` any text, the rest literal, case-insensitive, the whole string. */
export function globMatcher(patterns: readonly string[]): (value: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((p) => p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  const regex = new RegExp(`^(?:${alternatives.join('|')})$`, 'is');
  return (value) => regex.test(value);
}

/** Evidence count from which each kind is a flag (below it, the evidence is kept but not raised). */
export function raiseThresholds(config: Config): Record<FlagKind, number> {
  return {
    'automated-browser': 1,
    'clock-skew': 1,
    'duplicate-storm': config.dataQualityDuplicateUploads,
    'impossible-rate': 1,
    interleaved: config.dataQualityInterleaveSwitches,
    'test-identifier': 1,
  };
}

/** Why `userAgent` is automation: isbot's and the automated-browser check's signatures, then the team's patterns. */
export function automationReasons(userAgent: string, teamPattern: (value: string) => boolean): string[] {
  const reasons = automationSignatures(userAgent);
  if (teamPattern(userAgent)) reasons.push('DATA_QUALITY_UA_PATTERNS');
  return reasons;
}

export function pointsPerMinuteLimit(config: Config, generatorId: string): number {
  return config.dataQualityPointsPerMinute.byType[generatorId] ?? config.dataQualityPointsPerMinute.default;
}
