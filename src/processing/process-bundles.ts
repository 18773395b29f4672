/**
 * Bundles -> data points. Claims the oldest pending bundles (claim-bundles.ts), decodes them in
 * Node (decrypt, gunzip, JSON.parse), works out every point's row in Node (plan-points.ts) and
 * stores the batch with one COPY and one bookkeeping statement (store-points.ts), in one
 * transaction. If that fails, each bundle is retried alone, so one poison bundle never blocks the
 * others; a bundle that keeps failing is marked errored after PROCESS_MAX_ATTEMPTS attempts, with
 * the error message. A batch that lost a race for one of its points to another transaction (the
 * same point in two bundles processed at once) is simply run again.
 */
import type { Config } from '../config.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { withTransaction, type Transaction } from '../db/transaction.ts';
import { completePointDigests, pointDigestsReady } from '../db/point-digests.ts';
import { isDatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodePayload, parseJson, PayloadError } from '../payload/bundle-codec.ts';
import { claimBundles, recordFailure, type BundleKey, type ClaimedBundle } from './claim-bundles.ts';
import { digestsMatch } from './digest-check.ts';
import { LARGE_BUNDLE_BYTES, storeLargeBundle } from './large-bundle.ts';
import { POSTGRES_EPOCH_SECONDS } from './micros.ts';
import { emptyPlan, planBundle, type BatchPlan } from './plan-points.ts';
import type { SecondaryRuleRow } from './secondary.ts';
import { isUniqueViolation, storeBatch } from './store-points.ts';

export interface ProcessingDeps {
  pool: Pool;
  config: Config;
  log: Logger;
  /** Aborted when the worker stops: ends migration 0009's backfill between batches. */
  signal?: AbortSignal;
}

export interface BatchResult {
  bundles: number;
  points: number;
  added: number;
  rejected: number;
  failed: number;
}

const EMPTY: BatchResult = { bundles: 0, points: 0, added: 0, rejected: 0, failed: 0 };
/** Runs of a batch that lost a race on the unique key before it is split up like a failed one. */
const RACE_RETRIES = 5;

function boxKeys(config: Config) {
  return config.serverSecretKey && config.clientPublicKey
    ? { serverSecretKey: config.serverSecretKey, clientPublicKey: config.clientPublicKey }
    : undefined;
}

interface BatchContext {
  recordedPgMicros: number;
  rules: Map<string, SecondaryRuleRow>;
  digestsInNode: boolean;
  /** identifiers on the erased list: their points are dropped ('erased source') */
  erased: ReadonlySet<string>;
}

/**
 * Points are derived data: if a crash loses a batch's commit, the bundles are still pending and
 * are simply processed again, so waiting for the WAL flush buys nothing.
 */
const BATCH_TRANSACTION = { settings: { synchronous_commit: 'off' } } as const;

/**
 * The first statements of the batch's transaction. Returns the transaction's now() (every point's `recorded`) and the secondary
 * identifier rules, read every batch so that a change to data_types applies at once, and whether
 * content digests may be computed here.
 */
async function begin(deps: ProcessingDeps, client: Transaction): Promise<BatchContext> {
  // The lock comes before the erased list is read: an erasure (data-quality/erasure.ts) holds
  // data_points against writers while it deletes, so a batch reads the list after it, or commits
  // before the erasure deletes what the batch stored.
  const results = await client.query(`LOCK TABLE data_points IN ROW EXCLUSIVE MODE;
    SELECT (extract(epoch FROM now()) * 1000000 - ${POSTGRES_EPOCH_SECONDS}000000)::int8::text AS now,
      (SELECT json_agg(json_build_array(identifier, secondary_kind, secondary_path)) FROM data_types WHERE secondary_kind IS NOT NULL) AS rules,
      (SELECT array_agg(identifier) FROM erased_sources) AS erased`) as unknown as { rows: { now: string; rules: [string, SecondaryRuleRow['secondary_kind'], string[]][] | null; erased: string[] | null }[] }[];
  const { now, rules, erased } = results[1].rows[0];
  return {
    recordedPgMicros: Number(now),
    rules: new Map((rules ?? []).map(([id, kind, path]) => [id, { secondary_kind: kind, secondary_path: path }])),
    erased: new Set(erased ?? []),
    digestsInNode: await digestsMatch(deps.pool, client, deps.log),
  };
}

interface Decoded {
  plan: BatchPlan;
  undecodable: { bundle: BundleKey; message: string }[];
  /** The batch's first bundle, too large to parse whole: it is stored alone, as a stream (large-bundle.ts). */
  large?: ClaimedBundle;
}

/**
 * Decodes claimed bundles and plans their points, one bundle at a time, up to LARGE_BUNDLE_BYTES
 * of JSON text in all (the claim only estimates sizes: a gzip bomb looks small). Bundles left out
 * stay pending and come first in a later batch; those that cannot be decoded are returned
 * separately with the reason.
 */
function decodeAndPlan(bundles: ClaimedBundle[], config: Config, context: BatchContext): Decoded {
  const plan = emptyPlan();
  const undecodable: { bundle: BundleKey; message: string }[] = [];
  const keys = boxKeys(config);
  let room = LARGE_BUNDLE_BYTES;
  for (const [i, bundle] of bundles.entries()) {
    let text: string | undefined;
    let points: unknown;
    try {
      text = decodePayload(bundle, keys, room)?.trim();
      if (text === undefined) {
        if (i === 0) return { plan, undecodable, large: bundle };
        break;
      }
      if (text.startsWith('{')) text = `[${text}]`; // add-point.json: one point
      points = parseJson(text);
      if (!Array.isArray(points)) throw new PayloadError('payload is not a JSON array of data points');
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      undecodable.push({ bundle, message: error.message });
      continue;
    }
    room -= text.length;
    planBundle(plan, { bundle, text }, points, context.rules, context.digestsInNode, context.erased);
  }
  return { plan, undecodable };
}

/** Stores a planned batch on `client` (inside its transaction). */
async function store(client: PoolClient, plan: BatchPlan, context: BatchContext): Promise<Omit<BatchResult, 'failed'>> {
  const stored = await storeBatch(client, plan, context.rules, context.recordedPgMicros);
  return stored.reduce((sum, row) => ({
    bundles: sum.bundles + 1,
    points: sum.points + row.total,
    added: sum.added + row.added,
    rejected: sum.rejected + row.rejected,
  }), { bundles: 0, points: 0, added: 0, rejected: 0 });
}

async function runBatch(deps: ProcessingDeps, limit: number, only?: BundleKey[]): Promise<{ result: BatchResult; claimed: BundleKey[] }> {
  const { pool, config } = deps;
  let claimed: BundleKey[] = [];
  try {
    return await withTransaction(pool, async (client) => {
      const context = await begin(deps, client);
      const bundles = await claimBundles(client, limit, only);
      claimed = bundles.map(({ id, receivedMicros }) => ({ id, receivedMicros }));
      if (bundles.length === 0) return { result: EMPTY, claimed };
      const { plan, undecodable, large } = decodeAndPlan(bundles, config, context);
      if (large) {
        const result = await storeLargeBundle(client, large, boxKeys(config), config, context);
        if (!result.stored) await recordFailure(client, large, result.error, config.processMaxAttempts);
        return {
          result: result.stored ? { bundles: 1, points: result.points, added: result.added, rejected: result.rejected, failed: 0 } : { ...EMPTY, failed: 1 },
          claimed,
        };
      }
      // Failures are recorded while the claim still locks the bundles: recorded after the commit,
      // another loop could claim and fail the same bundle meanwhile (attempts past the maximum).
      for (const { bundle, message } of undecodable) await recordFailure(client, bundle, message, config.processMaxAttempts);
      let counts = { bundles: 0, points: 0, added: 0, rejected: 0 };
      let failed = undecodable.length;
      if (plan.decoded.length > 0 && !only) {
        counts = await store(client, plan, context);
      } else if (plan.decoded.length > 0) {
        // Isolating bundles after a failed batch: a failure is recorded in this same transaction.
        await client.query('SAVEPOINT store');
        try {
          counts = await store(client, plan, context);
        } catch (error) {
          if (isDatabaseUnavailable(error) || isUniqueViolation(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT store');
          deps.log.error({ err: error, bundleIds: plan.decoded.map((d) => d.bundle.id) }, 'bundle failed to process');
          for (const { bundle } of plan.decoded) await recordFailure(client, bundle, (error as Error).message, config.processMaxAttempts);
          failed += plan.decoded.length;
        }
      }
      return { result: { ...counts, failed }, claimed };
    }, BATCH_TRANSACTION);
  } catch (error) {
    (error as { claimed?: BundleKey[] }).claimed = claimed;
    throw error;
  }
}

/** runBatch, run again while it loses races on the unique key (store-points.ts). */
async function runBatchRetrying(deps: ProcessingDeps, limit: number, only?: BundleKey[]): Promise<{ result: BatchResult; claimed: BundleKey[] }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runBatch(deps, limit, only);
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= RACE_RETRIES) throw error;
      deps.log.debug({ attempt }, 'another transaction stored one of the batch\'s points first; running the batch again');
    }
  }
}

/**
 * Processes one batch of the oldest pending bundles. Returns what was done (all zeros: the queue
 * is empty, or another process is giving stored points their digests). Throws only when the
 * database is unreachable.
 */
export async function processBatch(deps: ProcessingDeps): Promise<BatchResult> {
  // New points are told apart from stored ones by their digests: the stored ones need theirs
  // first (migration 0009). One loop of one process computes them; the others wait.
  if (!(await pointDigestsReady(deps.pool)) && !(await completePointDigests(deps.pool, deps.log, { signal: deps.signal }))) return EMPTY;
  try {
    return (await runBatchRetrying(deps, deps.config.processBatchBundles)).result;
  } catch (error) {
    const claimed = (error as { claimed?: BundleKey[] }).claimed ?? [];
    if (isDatabaseUnavailable(error) || claimed.length === 0) throw error;
    deps.log.warn({ err: error, bundles: claimed.length }, 'batch failed; processing its bundles one by one');
    // Isolate the bad bundle(s): each bundle alone, in its own transaction.
    const total: BatchResult = { ...EMPTY };
    for (const key of claimed) {
      try {
        const { result } = await runBatchRetrying(deps, 1, [key]);
        for (const key of Object.keys(total) as (keyof BatchResult)[]) total[key] += result[key];
      } catch (single) {
        if (isDatabaseUnavailable(single)) throw single;
        deps.log.error({ err: single, bundleId: key.id }, 'bundle failed to process');
        await recordFailure(deps.pool, key, (single as Error).message, deps.config.processMaxAttempts);
        total.failed += 1;
      }
    }
    return total;
  }
}

/** Processes until no pending bundle is left. `onProgress` is called after every batch. */
export async function processUntilEmpty(deps: ProcessingDeps, onProgress?: (total: BatchResult) => void): Promise<BatchResult> {
  const total: BatchResult = { ...EMPTY };
  for (;;) {
    const result = await processBatch(deps);
    if (result.bundles === 0 && result.failed === 0) return total;
    for (const key of Object.keys(total) as (keyof BatchResult)[]) total[key] += result[key];
    onProgress?.(total);
  }
}
