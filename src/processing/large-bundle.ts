/**
 * A bundle whose JSON text is larger than a batch (LARGE_BUNDLE_BYTES) is never held whole: its
 * points are read as a stream (payload/split-payload.ts) and stored piece by piece, each piece like
 * a small batch, all in the caller's transaction, and the bundle's row is written once at the end.
 * Memory stays at a piece plus one point whatever the bundle's size (issue 17: six stored 90 MB
 * bundles of small objects took the processing thread past 2 GB). A bundle beyond the upload
 * limits (MAX_INFLATED_BYTES, MAX_POINT_BYTES, MAX_BUNDLE_POINTS, nesting) fails like an
 * undecodable one, with the reason (errored after PROCESS_MAX_ATTEMPTS), and whatever its earlier
 * pieces stored is undone.
 */
import type { Config } from '../config.ts';
import type { BoxKeys } from '../crypto/box.ts';
import type { PoolClient } from '../db/database.ts';
import { PayloadError } from '../payload/bundle-codec.ts';
import { payloadLimits } from '../payload/check-payload.ts';
import { splitPayload } from '../payload/split-payload.ts';
import type { ClaimedBundle } from './claim-bundles.ts';
import { emptyBundlePlan, emptyPlan, planBundle } from './plan-points.ts';
import type { SecondaryRuleRow } from './secondary.ts';
import { storeBatch } from './store-points.ts';

/** JSON text above which a bundle is read as a stream, and the size of its pieces. */
export const LARGE_BUNDLE_BYTES = 2 * 1024 * 1024;

export interface LargeBundleContext {
  recordedPgMicros: number;
  rules: Map<string, SecondaryRuleRow>;
  digestsInNode: boolean;
  erased: ReadonlySet<string>;
}

export type LargeBundleOutcome =
  | { stored: true; points: number; added: number; rejected: number }
  | { stored: false; error: string };

/** Stores `bundle`'s points on `client`, inside its transaction (see above). */
export async function storeLargeBundle(client: PoolClient, bundle: ClaimedBundle, keys: BoxKeys | undefined, config: Config, context: LargeBundleContext): Promise<LargeBundleOutcome> {
  const stats = emptyBundlePlan();
  let added = 0;
  await client.query('SAVEPOINT large_bundle');
  try {
    for await (const text of splitPayload(bundle, keys, payloadLimits(config), LARGE_BUNDLE_BYTES)) {
      const plan = emptyPlan();
      planBundle(plan, { bundle, text }, JSON.parse(text) as unknown[], context.rules, context.digestsInNode, context.erased, stats);
      const [piece] = await storeBatch(client, plan, context.rules, context.recordedPgMicros, { partial: true });
      added += piece.added;
    }
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    await client.query('ROLLBACK TO SAVEPOINT large_bundle');
    return { stored: false, error: error.message };
  }
  // The bundle's row, with the counts of all its pieces: a plan with no points of its own.
  const plan = emptyPlan();
  plan.decoded.push({ bundle, text: '[]' });
  plan.bundles.push(stats);
  await storeBatch(client, plan, context.rules, context.recordedPgMicros, { addedBefore: [added] });
  return { stored: true, points: stats.total, added, rejected: stats.rejected };
}
