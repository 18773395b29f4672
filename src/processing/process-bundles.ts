/**
 * Bundles -> data points. Claims the oldest pending bundles (FOR UPDATE SKIP LOCKED, so several
 * workers share the queue), decodes them in Node (decrypt, gunzip) and expands them all in one
 * statement (expand.sql.ts) in one transaction. If that fails, each bundle is retried alone, so one
 * poison bundle never blocks the others; a bundle that keeps failing is marked errored after
 * PROCESS_MAX_ATTEMPTS attempts, with the error message.
 */
import type { Config } from '../config.ts';
import { copyBinaryRows } from '../db/copy-binary.ts';
import type { Pool, PoolClient } from '../db/database.ts';
import { isDatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodePayload, parseJson, PayloadError } from '../payload/bundle-codec.ts';
import { EXPAND_BUNDLES_SQL } from './expand.sql.ts';
import { describePoint } from './point-fields.ts';

export interface ProcessingDeps {
  pool: Pool;
  config: Config;
  log: Logger;
}

export interface BatchResult {
  bundles: number;
  points: number;
  added: number;
  rejected: number;
  failed: number;
}

interface ClaimedBundle {
  id: number;
  received_at: Date;
  compression: string;
  encrypted: boolean;
  nonce: Buffer | null;
  body: Buffer;
  has_files: boolean;
}

interface DecodedBundle {
  bundle: ClaimedBundle;
  /** The JSON text (PostgreSQL parses it again, into jsonb). */
  json: string;
  /** The same, parsed, for reading metadata here. */
  points: unknown[];
}

/**
 * JSON bytes per batch, estimated from the stored size (gzip: about 4×): bounds the memory a
 * batch needs (parsed, it is several times larger again). A bundle larger than this is a batch alone.
 */
const MAX_BATCH_JSON_BYTES = 1024 * 1024;
const GZIP_RATIO_ESTIMATE = 4;

const EMPTY: BatchResult = { bundles: 0, points: 0, added: 0, rejected: 0, failed: 0 };

async function claimBundles(client: PoolClient, limit: number, onlyIds?: number[]): Promise<ClaimedBundle[]> {
  const { rows: candidates } = await client.query<{ id: number; size: number }>(
    `SELECT id, octet_length(body) * CASE WHEN compression = 'gzip' THEN ${GZIP_RATIO_ESTIMATE} ELSE 1 END AS size FROM bundles
     WHERE status = 'pending' ${onlyIds ? 'AND id = ANY($2)' : ''}
     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    onlyIds ? [limit, onlyIds] : [limit],
  );
  const chosen: number[] = [];
  let bytes = 0;
  for (const candidate of candidates) {
    if (chosen.length > 0 && bytes + candidate.size > MAX_BATCH_JSON_BYTES) break;
    chosen.push(candidate.id);
    bytes += candidate.size;
  }
  if (chosen.length === 0) return [];
  const { rows } = await client.query<Omit<ClaimedBundle, 'body'>>(
    `SELECT id, received_at, compression, encrypted, nonce,
            EXISTS (SELECT 1 FROM bundle_files f WHERE f.bundle_id = b.id) AS has_files
     FROM bundles b WHERE id = ANY($1) ORDER BY id`,
    [chosen],
  );
  const bodies = await copyBinaryRows(client, `SELECT body FROM bundles WHERE id IN (${chosen.map(Number).join(',')}) ORDER BY id`);
  return rows.map((row, index) => ({ ...row, body: bodies[index][0] ?? Buffer.alloc(0) }));
}

/** Keys ending in `@` name uploaded files (pdk-server.md §2.4); collect them, at any depth. */
function attachmentRefs(value: unknown, out: { k: string; f: string }[]): void {
  if (Array.isArray(value)) {
    for (const item of value) attachmentRefs(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.endsWith('@')) {
        for (const name of Array.isArray(item) ? item : [item]) if (typeof name === 'string') out.push({ k: key, f: name });
      } else {
        attachmentRefs(item, out);
      }
    }
  }
}

function boxKeys(config: Config) {
  return config.serverSecretKey && config.clientPublicKey
    ? { serverSecretKey: config.serverSecretKey, clientPublicKey: config.clientPublicKey }
    : undefined;
}

/** Records a failed attempt; the bundle is errored once it has failed `maxAttempts` times. */
async function recordFailure(db: Pool | PoolClient, id: number, message: string, maxAttempts: number): Promise<void> {
  await db.query(
    `UPDATE bundles SET attempts = attempts + 1, error = $2,
       status = CASE WHEN attempts + 1 >= $3 THEN 'errored' ELSE 'pending' END,
       processed_at = CASE WHEN attempts + 1 >= $3 THEN now() END
     WHERE id = $1`,
    [id, message.slice(0, 2000), maxAttempts],
  );
}

/** Runs the expansion for already-decoded bundles on `client` (inside its transaction). */
async function expand(client: PoolClient, decoded: DecodedBundle[]): Promise<Omit<BatchResult, 'failed'>> {
  const perPoint = {
    bord: [] as number[], pidx: [] as number[], source: [] as string[], generatorId: [] as string[],
    generator: [] as string[], userAgent: [] as string[], epoch: [] as (number | null)[],
    epochFrom: [] as (string | null)[], dateText: [] as (string | null)[],
  };
  const perBundle = { total: [] as number[], rejected: [] as number[], rejections: [] as (string | null)[], sources: [] as (string | null)[] };
  const links: { b: number; i: number; k: string; f: string }[] = [];
  decoded.forEach(({ bundle, points }, index) => {
    const rejections: Record<string, number> = {};
    const sources = new Set<string>();
    let rejected = 0;
    points.forEach((point, pointIndex) => {
      const fields = describePoint(point);
      if (typeof fields === 'string') {
        rejections[fields] = (rejections[fields] ?? 0) + 1;
        rejected += 1;
        return;
      }
      sources.add(fields.source);
      perPoint.bord.push(index + 1);
      perPoint.pidx.push(pointIndex + 1);
      perPoint.source.push(fields.source);
      perPoint.generatorId.push(fields.generatorId);
      perPoint.generator.push(fields.generator);
      perPoint.userAgent.push(fields.userAgent);
      perPoint.epoch.push(fields.epochSeconds);
      perPoint.epochFrom.push(fields.epochFrom);
      perPoint.dateText.push(fields.dateText);
      if (bundle.has_files) {
        const refs: { k: string; f: string }[] = [];
        attachmentRefs(point, refs);
        for (const ref of refs) links.push({ b: index + 1, i: pointIndex + 1, ...ref });
      }
    });
    perBundle.total.push(points.length);
    perBundle.rejected.push(rejected);
    perBundle.rejections.push(rejected > 0 ? JSON.stringify(rejections) : null);
    perBundle.sources.push(sources.size > 0 ? JSON.stringify([...sources].sort()) : null);
  });
  const { rows } = await client.query<{ id: number; point_count: number; points_added: number; points_rejected: number }>(
    // Named: PostgreSQL parses and plans the big statement once per connection, not per batch.
    { name: 'dcs-expand-bundles', text: EXPAND_BUNDLES_SQL, values: [
      `[${decoded.map((d) => d.json).join(',')}]`,
      perPoint.bord, perPoint.pidx, perPoint.source, perPoint.generatorId, perPoint.generator, perPoint.userAgent,
      perPoint.epoch, perPoint.epochFrom, perPoint.dateText,
      decoded.map((d) => d.bundle.id),
      decoded.map((d) => d.bundle.received_at),
      decoded.map((d) => d.bundle.encrypted),
      perBundle.total, perBundle.rejected, perBundle.rejections, perBundle.sources,
      JSON.stringify(links),
    ] },
  );
  return rows.reduce((sum, row) => ({
    bundles: sum.bundles + 1,
    points: sum.points + row.point_count,
    added: sum.added + row.points_added,
    rejected: sum.rejected + row.points_rejected,
  }), { bundles: 0, points: 0, added: 0, rejected: 0 });
}

/** Decodes claimed bundles; those that cannot be decoded are returned separately with the reason. */
function decodeAll(bundles: ClaimedBundle[], config: Config): { decoded: DecodedBundle[]; undecodable: { id: number; message: string }[] } {
  const decoded: DecodedBundle[] = [];
  const undecodable: { id: number; message: string }[] = [];
  const keys = boxKeys(config);
  for (const bundle of bundles) {
    try {
      let json = decodePayload(bundle, keys, config.maxInflatedBytes).trim();
      if (json.startsWith('{')) json = `[${json}]`; // add-point.json: one point
      const points = parseJson(json);
      if (!Array.isArray(points)) throw new PayloadError('payload is not a JSON array of data points');
      decoded.push({ bundle, json, points });
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      undecodable.push({ id: bundle.id, message: error.message });
    }
  }
  return { decoded, undecodable };
}

async function runBatch(deps: ProcessingDeps, limit: number, onlyIds?: number[]): Promise<{ result: BatchResult; ids: number[] }> {
  const { pool, config } = deps;
  const client = await pool.connect();
  let ids: number[] = [];
  try {
    await client.query('BEGIN');
    // Points are derived data: if a crash loses this commit, the bundles are still pending and are
    // simply processed again, so waiting for the WAL flush buys nothing. Enough memory for the
    // batch's CTEs to stay off disk.
    await client.query(`SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '64MB'`);
    const bundles = await claimBundles(client, limit, onlyIds);
    ids = bundles.map((b) => b.id);
    if (bundles.length === 0) {
      await client.query('COMMIT');
      return { result: EMPTY, ids };
    }
    const { decoded, undecodable } = decodeAll(bundles, config);
    // Failures are recorded while the claim still locks the bundles: recorded after the commit,
    // another loop could claim and fail the same bundle meanwhile (attempts past the maximum).
    for (const { id, message } of undecodable) await recordFailure(client, id, message, config.processMaxAttempts);
    let counts = { bundles: 0, points: 0, added: 0, rejected: 0 };
    let failed = undecodable.length;
    if (decoded.length > 0 && !onlyIds) {
      counts = await expand(client, decoded);
    } else if (decoded.length > 0) {
      // Isolating bundles after a failed batch: a failure is recorded in this same transaction.
      await client.query('SAVEPOINT expand');
      try {
        counts = await expand(client, decoded);
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT expand');
        deps.log.error({ err: error, bundleIds: decoded.map((d) => d.bundle.id) }, 'bundle failed to process');
        for (const { bundle } of decoded) await recordFailure(client, bundle.id, (error as Error).message, config.processMaxAttempts);
        failed += decoded.length;
      }
    }
    await client.query('COMMIT');
    return { result: { ...counts, failed }, ids };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    (error as { claimedIds?: number[] }).claimedIds = ids;
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Processes one batch of the oldest pending bundles. Returns what was done (all zeros: the queue
 * is empty). Throws only when the database is unreachable.
 */
export async function processBatch(deps: ProcessingDeps): Promise<BatchResult> {
  try {
    return (await runBatch(deps, deps.config.processBatchBundles)).result;
  } catch (error) {
    const claimed = (error as { claimedIds?: number[] }).claimedIds ?? [];
    if (isDatabaseUnavailable(error) || claimed.length === 0) throw error;
    deps.log.warn({ err: error, bundles: claimed.length }, 'batch failed; processing its bundles one by one');
    // Isolate the bad bundle(s): each bundle alone, in its own transaction.
    const total: BatchResult = { ...EMPTY };
    for (const id of claimed) {
      try {
        const { result } = await runBatch(deps, 1, [id]);
        for (const key of Object.keys(total) as (keyof BatchResult)[]) total[key] += result[key];
      } catch (single) {
        if (isDatabaseUnavailable(single)) throw single;
        deps.log.error({ err: single, bundleId: id }, 'bundle failed to process');
        await recordFailure(deps.pool, id, (single as Error).message, deps.config.processMaxAttempts);
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
