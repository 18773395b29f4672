/**
 * The queries of an erasure (erasure.ts): the erased list, the deletions table by table, the
 * audit entry. Each takes a client inside the caller's transaction.
 */
import type { PoolClient } from '../db/database.ts';

export interface ErasedSource {
  identifier: string;
  erasedAt: Date;
  erasedBy: string;
}

export interface BackupBefore {
  name: string;
  finished_at: string;
  destinations: string[];
}

/** Puts `identifier` on the erased list (kept as it was when it is on it already). */
export async function addToErasedList(client: PoolClient, identifier: string, by: string): Promise<void> {
  await client.query('INSERT INTO erased_sources (identifier, erased_by) VALUES ($1, $2) ON CONFLICT (identifier) DO NOTHING', [identifier, by]);
}

/** Takes `identifier` off the erased list; false when it was not on it. */
export async function removeFromErasedList(client: PoolClient, identifier: string): Promise<boolean> {
  const { rowCount } = await client.query('DELETE FROM erased_sources WHERE identifier = $1', [identifier]);
  return rowCount === 1;
}

export async function listErased(client: PoolClient): Promise<ErasedSource[]> {
  const { rows } = await client.query('SELECT identifier, erased_at AS "erasedAt", erased_by AS "erasedBy" FROM erased_sources ORDER BY erased_at, identifier');
  return rows;
}

export async function findErased(client: PoolClient, identifier: string): Promise<ErasedSource | undefined> {
  const { rows } = await client.query('SELECT identifier, erased_at AS "erasedAt", erased_by AS "erasedBy" FROM erased_sources WHERE identifier = $1', [identifier]);
  return rows[0];
}

/**
 * Waits for the uploads being inserted now to commit: an insert that began before `identifier`
 * went on the list did not see it (ingest's insert checks the list in the same statement).
 */
export async function waitForUploadsInFlight(client: PoolClient): Promise<void> {
  await client.query('LOCK TABLE bundles IN SHARE MODE');
}

/**
 * Waits for the processing batches running now, and keeps new ones out until the caller's
 * transaction ends: a batch takes ROW EXCLUSIVE on data_points before it reads the erased list
 * (processing/process-bundles.ts), so it either commits before the erasure deletes its points or
 * reads the list after the erasure.
 */
export async function holdProcessing(client: PoolClient): Promise<void> {
  await client.query('LOCK TABLE data_points IN SHARE ROW EXCLUSIVE MODE');
}

/**
 * A bundle's key (bundles is partitioned by received_at, migration 0034): received_at as
 * PostgreSQL's text, which gives back the same microsecond (a Date would lose it).
 */
interface BundleRef {
  id: number;
  receivedAt: string;
}

/** `received_at = ANY AND id = ANY` of `bundles`: the keys exactly (ids are unique), each read in its partition. */
const keyParams = (bundles: readonly BundleRef[]) => [bundles.map((b) => b.receivedAt), bundles.map((b) => b.id)];

/**
 * The bundles that name `identifier` (its X-PDK-IDENTIFIER header, or the sources of its points),
 * locked: `own` hold nothing but its points (or none yet: pending, errored); `mixed` hold other
 * participants' points too (old clients batching several identifiers). Found in every partition:
 * nothing tells in which months a participant uploaded.
 */
export async function lockBundlesOf(client: PoolClient, identifier: string): Promise<{ own: BundleRef[]; mixed: BundleRef[] }> {
  const { rows } = await client.query<{ id: string; received_at: string; own: boolean }>(
    `SELECT id, received_at::text AS received_at, coalesce(sources, '{}') <@ ARRAY[$1::text] AS own FROM bundles
      WHERE identifier = $1 OR sources @> ARRAY[$1::text] ORDER BY id FOR UPDATE`,
    [identifier],
  );
  const ref = (r: (typeof rows)[number]): BundleRef => ({ id: Number(r.id), receivedAt: r.received_at });
  return { own: rows.filter((r) => r.own).map(ref), mixed: rows.filter((r) => !r.own).map(ref) };
}

/** Deletes the source's points; returns rows per table. */
export async function deletePointsOf(client: PoolClient, identifier: string): Promise<Record<string, number>> {
  const points = await client.query('DELETE FROM data_points WHERE source = $1', [identifier]);
  return { data_points: points.rowCount ?? 0 };
}

/** Deletes whole bundles (their files and backup-queue rows with them); returns rows per table. */
export async function deleteBundles(client: PoolClient, refs: BundleRef[]): Promise<Record<string, number>> {
  const ids = refs.map((b) => b.id);
  const files = await client.query('DELETE FROM bundle_files WHERE bundle_received_at = ANY($1::timestamptz[]) AND bundle_id = ANY($2::bigint[])', keyParams(refs));
  const queued = await client.query('DELETE FROM backup_queue WHERE bundle_id = ANY($1::bigint[])', [ids]);
  const bundles = await client.query('DELETE FROM bundles WHERE received_at = ANY($1::timestamptz[]) AND id = ANY($2::bigint[])', keyParams(refs));
  return { bundle_files: files.rowCount ?? 0, backup_queue: queued.rowCount ?? 0, bundles: bundles.rowCount ?? 0 };
}

/**
 * Keeps a mixed bundle (other participants' raw data) but takes the identifier off its metadata;
 * processing drops its points of an erased source if it is ever processed again.
 */
export async function detachMixedBundles(client: PoolClient, identifier: string, refs: BundleRef[]): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE bundles SET sources = array_remove(sources, $1::text), identifier = nullif(identifier, $1::text)
      WHERE received_at = ANY($2::timestamptz[]) AND id = ANY($3::bigint[])`,
    [identifier, ...keyParams(refs)],
  );
  return rowCount ?? 0;
}

/**
 * Every other table with a row of the source, and its column. The erasure test checks this list
 * against the catalog: a new table with a source or identifier column must be added here (or to
 * the test's list of tables that hold something else under that name).
 */
export const SOURCE_TABLES: readonly { table: string; column: string }[] = [
  // donation_files, donation_file_chunks and donation_request_sources go with their request (ON DELETE CASCADE)
  { table: 'donation_requests', column: 'identifier' },
  { table: 'source_daily_points', column: 'source' },
  { table: 'source_point_deltas', column: 'source' },
  { table: 'source_recent_points', column: 'source' },
  { table: 'source_latest_status', column: 'source' },
  { table: 'user_agent_sources', column: 'source' },
  { table: 'alerts', column: 'source' },
  // the data-quality job's evidence quotes the source's points (user agents, times)
  { table: 'data_quality_flags', column: 'source' },
  { table: 'amazon_product_sightings', column: 'source' },
  // the points the ASIN harvest has counted (keyed by source since migration 0035)
  { table: 'amazon_harvested_points', column: 'source' },
  // points not read by the ASIN harvest yet (its outbox)
  { table: 'harvest_queue', column: 'source' },
  { table: 'app_config_assignments', column: 'identifier' },
  { table: 'app_config_draws', column: 'identifier' },
  { table: 'app_config_served', column: 'identifier' },
  { table: 'data_sources', column: 'source' },
];

/** Deletes the source's rows from SOURCE_TABLES; returns rows per table (donated files counted apart). */
export async function deleteSourceRows(client: PoolClient, identifier: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const files = await client.query(
    'SELECT count(*)::int AS n FROM donation_files f JOIN donation_requests r ON r.id = f.request_id WHERE r.identifier = $1',
    [identifier],
  );
  counts.donation_files = files.rows[0].n;
  for (const { table, column } of SOURCE_TABLES) {
    // Names from the constant above, never from input.
    const { rowCount } = await client.query(`DELETE FROM ${table} WHERE ${column} = $1`, [identifier]);
    counts[table] = rowCount ?? 0;
  }
  return counts;
}

/** The backup runs written so far: they still hold what was erased, and the team must handle them. */
export async function backupsWritten(client: PoolClient): Promise<BackupBefore[]> {
  const { rows } = await client.query(
    `SELECT name, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at, destinations
       FROM backup_runs WHERE state = 'succeeded' ORDER BY id`,
  );
  return rows;
}

export interface AuditEntry {
  identifier: string;
  action: 'erase' | 'readmit';
  doneBy: string;
  counts?: Record<string, number>;
  mixedBundles?: number[];
  backupsBefore?: BackupBefore[];
}

export async function recordAudit(client: PoolClient, entry: AuditEntry): Promise<{ id: number; doneAt: Date }> {
  const { rows } = await client.query(
    `INSERT INTO source_erasures (identifier, action, done_by, counts, mixed_bundles, backups_before)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, done_at AS "doneAt"`,
    [entry.identifier, entry.action, entry.doneBy, JSON.stringify(entry.counts ?? {}), entry.mixedBundles ?? [], JSON.stringify(entry.backupsBefore ?? [])],
  );
  return { id: Number(rows[0].id), doneAt: rows[0].doneAt };
}

export interface AuditRow {
  id: number;
  identifier: string;
  action: 'erase' | 'readmit';
  doneBy: string;
  doneAt: Date;
  counts: Record<string, number>;
  mixedBundles: number[];
  backupsBefore: BackupBefore[];
}

export async function auditOf(client: PoolClient, identifier: string): Promise<AuditRow[]> {
  const { rows } = await client.query(
    `SELECT id::int, identifier, action, done_by AS "doneBy", done_at AS "doneAt", counts, mixed_bundles::int8[]::text[] AS "mixedBundles", backups_before AS "backupsBefore"
       FROM source_erasures WHERE identifier = $1 ORDER BY id`,
    [identifier],
  );
  return rows.map((r) => ({ ...r, mixedBundles: (r.mixedBundles as string[]).map(Number) }));
}
