/**
 * data-quality (every 5 minutes): reads the points and the processed uploads that are new since
 * its cursors, never all points, and adds what they show to each source's flags with evidence
 * (flags-rules.ts; docs/data-quality.md, "Flags"). Each id range is one transaction with the
 * cursor, so a crash reads the range again and counts nothing twice.
 */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import type { JobDefinition } from '../job-contract.ts';
import { automationReasons, FUTURE_TOLERANCE_MINUTES, globMatcher, pointsPerMinuteLimit, raiseThresholds, type Evidence } from './flags-rules.ts';
import {
  addEvidence, allSources, committedMaxPointId, duplicateUploadsSince, lockFlagsState, readPointRange, saveFlagsState, setTestIdentifiers,
  type AgentRow, type RateRow,
} from './flags.repository.ts';

/** Point ids per transaction: bounds one run's memory and the work a crash repeats. */
export const POINT_RANGE_IDS = 250_000;
/** Bundles per transaction. */
export const BUNDLE_BATCH = 20_000;

/** Several rows of one source and kind from one range (user agents, minutes, switches) as one. */
function merged(evidence: Evidence[]): Evidence[] {
  const byKey = new Map<string, Evidence>();
  for (const e of evidence) {
    const key = `${e.kind}\u0000${e.source}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...e, examples: [...e.examples] });
    else {
      seen.count += e.count;
      if (e.firstSeen < seen.firstSeen) seen.firstSeen = e.firstSeen;
      if (e.lastSeen > seen.lastSeen) seen.lastSeen = e.lastSeen;
      seen.examples.push(...e.examples);
    }
  }
  return [...byKey.values()];
}

function automatedBrowsers(rows: AgentRow[], teamPattern: (value: string) => boolean): Evidence[] {
  // thousands of sources share a handful of user agents: each is matched once
  const known = new Map<string, string[]>();
  return rows.flatMap((row) => {
    let reasons = known.get(row.user_agent);
    if (!reasons) known.set(row.user_agent, (reasons = automationReasons(row.user_agent, teamPattern)));
    if (reasons.length === 0) return [];
    return [{ source: row.source, kind: 'automated-browser' as const, count: row.n, firstSeen: row.first_seen, lastSeen: row.last_seen, examples: [{ userAgent: row.user_agent, points: row.n, signatures: reasons }] }];
  });
}

function impossibleRates(rows: RateRow[], config: Config): Evidence[] {
  return rows.flatMap((row) => {
    const limit = pointsPerMinuteLimit(config, row.generator_id);
    if (row.n <= limit) return [];
    // the evidence counts minutes over the limit; the example says how far over
    return [{ source: row.source, kind: 'impossible-rate' as const, count: 1, firstSeen: row.minute, lastSeen: row.minute, examples: [{ type: row.generator_id, minute: row.minute, points: row.n, limit }] }];
  });
}

/** Reads one id range of new points; returns the evidence it shows. */
async function scanPoints(db: Parameters<typeof readPointRange>[0], config: Config, after: number, upTo: number): Promise<Evidence[]> {
  const read = await readPointRange(db, after, upTo, {
    skewHours: config.dataQualitySkewHours,
    futureMinutes: FUTURE_TOLERANCE_MINUTES,
    lowestRate: Math.min(config.dataQualityPointsPerMinute.default, ...Object.values(config.dataQualityPointsPerMinute.byType)),
    interleaveMinutes: config.dataQualityInterleaveMinutes,
  });
  return merged([...automatedBrowsers(read.agents, globMatcher(config.dataQualityUaPatterns)), ...read.skew, ...impossibleRates(read.busyMinutes, config), ...read.interleaved]);
}

export async function updateFlags(pool: Pool, config: Config): Promise<Record<string, number>> {
  const thresholds = raiseThresholds(config);
  const counts = { pointRanges: 0, bundles: 0, evidence: 0, testIdentifiers: 0, cleared: 0 };
  const upTo = await withTransaction(pool, (client) => committedMaxPointId(client));
  for (;;) {
    const more = await withTransaction(pool, async (client) => {
      const state = await lockFlagsState(client);
      if (state.lastPointId >= upTo) return false;
      const end = Math.min(upTo, state.lastPointId + POINT_RANGE_IDS);
      counts.evidence += await addEvidence(client, await scanPoints(client, config, state.lastPointId, end), thresholds);
      await saveFlagsState(client, { ...state, lastPointId: end });
      counts.pointRanges += 1;
      return true;
    });
    if (!more) break;
  }
  for (;;) {
    const read = await withTransaction(pool, async (client) => {
      const state = await lockFlagsState(client);
      const found = await duplicateUploadsSince(client, state.lastBundleProcessedAt, state.lastBundleId, BUNDLE_BATCH);
      if (!found.cursor) return 0;
      counts.evidence += await addEvidence(client, found.evidence, thresholds);
      await saveFlagsState(client, { ...state, lastBundleProcessedAt: found.cursor.processedAt, lastBundleId: found.cursor.id });
      return found.bundles;
    });
    counts.bundles += read;
    if (read < BUNDLE_BATCH) break;
  }
  const testId = globMatcher(config.dataQualityTestIds);
  await withTransaction(pool, async (client) => {
    const matching = (await allSources(client)).filter((s) => testId(s.source)).map((s) => ({ ...s, pattern: config.dataQualityTestIds.find((p) => globMatcher([p])(s.source))! }));
    const result = await setTestIdentifiers(client, matching);
    counts.testIdentifiers = result.raised;
    counts.cleared = result.cleared;
  });
  return counts;
}

export const dataQualityJob: JobDefinition = {
  name: 'data-quality',
  description: 'Reads new points and uploads for signs of bots, test installs and bad clocks, and records each source\'s flags with evidence.',
  schedule: { everyMinutes: 5 },
  run: ({ pool, config }) => updateFlags(pool, config),
};
