/**
 * Stores a planned batch (plan-points.ts) on `client`, inside its transaction:
 *  1. asks PostgreSQL, in one query, for what Node could not compute exactly (rare);
 *  2. keeps the first copy of each point (same `created`, same content digest) and asks which of
 *     them data_points already holds (its unique key (source, created, digest), a lookup each);
 *  3. COPYs the new ones, their properties being their own text plus `encrypted_transmission`
 *     (added as the last key of their metadata: the last of duplicate keys is the one jsonb keeps);
 *  4. appends the keys of the new points the ASIN harvest reads to its outbox (harvest_queue);
 *  5. links points to their files, counts them for their sources and marks the bundles processed;
 *  6. keeps each source's newest status point (latest-status.ts).
 * Another transaction may store one of the same points between 2 and 3: the COPY then fails on the
 * unique key (isUniqueViolation) and the caller runs the batch again, which then finds that point.
 */
import { HARVESTED_TYPES } from '../amazon/harvested-types.ts';
import type { PoolClient } from '../db/database.ts';
import { copyIn } from './copy-in.ts';
import { BinaryCopyWriter } from './copy-writer.ts';
import { digestFromUuid } from './content-digest.ts';
import { integerArray, POSTGRES_EPOCH_SECONDS, timestampFromMicros, timestampTextFromMicros } from './micros.ts';
import type { BatchPlan, PlannedPoint } from './plan-points.ts';
import { recordLatestStatus } from './latest-status.ts';
import { RECORD_BATCH_SQL } from './record-batch.sql.ts';
import { applyRule, SQL_SECONDARY, type SecondaryRuleRow } from './secondary.ts';

const COPY_POINTS_SQL = `COPY data_points (source, generator_id, generator, secondary_identifier, user_agent, created, created_from,
  recorded, bundle_id, content_digest, properties) FROM STDIN (FORMAT binary)`;
/** 10 minutes in microseconds: source_point_deltas' buckets (from 2000-01-01, microsecond 0). */
const BUCKET_MICROS = 600_000_000;

export interface StoredBundle {
  id: number;
  total: number;
  added: number;
  rejected: number;
}

/** True for the error a COPY gets when another transaction stored one of its points first. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

const pointText = (plan: BatchPlan, p: PlannedPoint) => plan.decoded[p.bundle].text.slice(p.start, p.end);

/** Step 1: digests, secondary identifiers and `date` times from PostgreSQL, for the points that need them. */
async function resolveInSql(client: PoolClient, plan: BatchPlan, rules: Map<string, SecondaryRuleRow>): Promise<void> {
  const asked = plan.points.filter((p) => !p.digest || p.secondary === SQL_SECONDARY || p.created === undefined);
  const { rows } = await client.query<{ digest: string | null; secondary: string | null; created: string | null }>(
    `SELECT CASE WHEN u.need_digest THEN dcs_point_digest(j.point)::text END AS digest,
            CASE WHEN u.path IS NOT NULL THEN j.point #>> ARRAY(SELECT jsonb_array_elements_text(u.path::jsonb)) END AS secondary,
            (extract(epoch FROM dcs_text_timestamp(u.date_text)) * 1000000 - ${POSTGRES_EPOCH_SECONDS}000000)::int8::text AS created
     FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[]) WITH ORDINALITY AS u (point, need_digest, path, date_text, i)
     CROSS JOIN LATERAL (SELECT u.point::jsonb AS point) j
     ORDER BY u.i`,
    [
      asked.map((p) => (!p.digest || p.secondary === SQL_SECONDARY ? pointText(plan, p) : null)),
      asked.map((p) => !p.digest),
      asked.map((p) => (p.secondary === SQL_SECONDARY ? JSON.stringify(rules.get(p.generatorId)!.secondary_path) : null)),
      asked.map((p) => (p.created === undefined ? p.dateText : null)),
    ],
  );
  asked.forEach((p, i) => {
    const row = rows[i];
    if (!p.digest) p.digest = digestFromUuid(row.digest!);
    if (p.secondary === SQL_SECONDARY) p.secondary = applyRule(rules.get(p.generatorId)!.secondary_kind!, row.secondary ?? undefined);
    if (p.created === undefined) {
      if (row.created !== null) {
        p.created = Number(row.created);
        p.createdFrom = 'date-text';
      } else {
        p.created = plan.decoded[p.bundle].bundle.receivedMicros;
      }
    }
  });
}

/** The first copy of each point in the batch: same `created`, same digest. */
function firstCopies(plan: BatchPlan): PlannedPoint[] {
  const byDigest = new Map<string, PlannedPoint[]>();
  const first: PlannedPoint[] = [];
  for (const p of plan.points) {
    const same = byDigest.get(p.digest!);
    if (!same) byDigest.set(p.digest!, [p]);
    else if (same.some((q) => q.created === p.created)) continue;
    else same.push(p);
    first.push(p);
  }
  return first;
}

/**
 * The points of $1 (sources), $2 (`created`, microseconds since 2000) and $3 (digests) that
 * data_points holds, by their place in the lists: one lookup of the unique key each. Each lookup
 * carries its source, so it reads one month's partition of one source (scale-out.md Q4), and the
 * correlation is on the source (what Citus requires of a correlated subquery). $4 and $5 bound
 * the batch's `created` (timestamptz, so the planner prunes with them): only the partitions of
 * its months are planned, not every month's (with 1,000 partitions, 0.2-0.8 s a batch).
 */
export const STORED_POINTS_SQL = `SELECT k.i FROM unnest($1::text[], $2::int8[], $3::uuid[]) WITH ORDINALITY AS k (source, created, digest, i)
  WHERE EXISTS (SELECT 1 FROM data_points p WHERE p.source = k.source AND p.created = ${timestampFromMicros('k.created')} AND p.content_digest = k.digest
                AND p.created >= $4::timestamptz AND p.created <= $5::timestamptz)`;

/**
 * An instant at or before (`notAfter`) or at or after (`notBefore`) `micros` (microseconds since
 * 2000), as ISO text to the millisecond; outside the years 1-9999 (which ISO text would write with
 * a sign) the open end, -infinity or infinity.
 */
const MS_2000 = POSTGRES_EPOCH_SECONDS * 1000;
function isoWithin(ms: number, outside: string): string {
  const at = new Date(ms);
  const year = at.getUTCFullYear();
  return Number.isFinite(year) && year >= 1 && year <= 9999 ? at.toISOString() : outside;
}
const notAfter = (micros: number) => isoWithin(MS_2000 + Math.floor(micros / 1000), '-infinity');
const notBefore = (micros: number) => isoWithin(MS_2000 + Math.ceil(micros / 1000), 'infinity');

/** Step 2: marks `isNew` on the first copy of each point that data_points does not hold. */
async function markNew(client: PoolClient, plan: BatchPlan): Promise<void> {
  const unique = firstCopies(plan);
  if (unique.length === 0) return;
  let first = unique[0].created!;
  let last = first;
  for (const p of unique) {
    if (p.created! < first) first = p.created!;
    else if (p.created! > last) last = p.created!;
  }
  const { rows } = await client.query<{ i: string }>(
    STORED_POINTS_SQL,
    [unique.map((p) => p.source), integerArray(unique.map((p) => p.created!)), `{${unique.map((p) => p.digest).join(',')}}`, notAfter(first), notBefore(last)],
  );
  for (const p of unique) p.isNew = true;
  for (const row of rows) unique[Number(row.i) - 1].isNew = false;
}

const FLAG = { true: Buffer.from(',"encrypted_transmission":true'), false: Buffer.from(',"encrypted_transmission":false') };

/**
 * Step 3: the COPY of the new points. A bundle text that is all ASCII (most are) is encoded once
 * and its points copied from it as bytes (offsets in the text are then offsets in the bytes).
 */
async function copyNew(client: PoolClient, plan: BatchPlan, recordedPgMicros: number): Promise<void> {
  const writer = new BinaryCopyWriter();
  const encoded: (Buffer | undefined | null)[] = plan.decoded.map(() => undefined);
  let rows = 0;
  for (const p of plan.points) {
    if (!p.isNew) continue;
    const { bundle, text } = plan.decoded[p.bundle];
    let bytes = encoded[p.bundle];
    if (bytes === undefined) {
      bytes = encoded[p.bundle] = Buffer.byteLength(text, 'utf8') === text.length ? Buffer.from(text, 'latin1') : null;
    }
    writer.row(11);
    writer.textOften(p.source);
    writer.textOften(p.generatorId);
    writer.textOften(p.generator);
    writer.text(p.secondary as string | null);
    writer.textOften(p.userAgent);
    writer.int64(p.created!);
    writer.textOften(p.createdFrom);
    writer.int64(bundle.pointsRecordedMicros ?? recordedPgMicros);
    writer.int64(bundle.id);
    writer.uuid(p.digest!);
    const flag = FLAG[bundle.encrypted || p.encryptedBefore ? 'true' : 'false'];
    if (bytes) writer.jsonbBytes([bytes, flag, bytes], [p.start, p.metadataEnd, 0, flag.length, p.metadataEnd, p.end]);
    else writer.jsonb(text.slice(p.start, p.metadataEnd), flag.toString('latin1'), text.slice(p.metadataEnd, p.end));
    rows += 1;
  }
  if (rows > 0) await copyIn(client, COPY_POINTS_SQL, writer.finish());
}

/**
 * Step 4: the new points of the types the ASIN harvest reads, into its outbox (migration 0029),
 * in this transaction: a point is queued exactly when it is stored, so the harvest needs no lock
 * and no id order. One statement of keys per batch.
 */
async function queueForHarvest(client: PoolClient, plan: BatchPlan): Promise<void> {
  const queued = plan.points.filter((p) => p.isNew && HARVESTED_TYPES.has(p.generatorId));
  if (queued.length === 0) return;
  await client.query({
    name: 'dcs-queue-harvest',
    text: `INSERT INTO harvest_queue (source, created, content_digest)
      SELECT source, ${timestampFromMicros('created')}, digest FROM unnest($1::text[], $2::int8[], $3::uuid[]) AS u (source, created, digest)`,
    values: [queued.map((p) => p.source), integerArray(queued.map((p) => p.created!)), `{${queued.map((p) => p.digest).join(',')}}`],
  });
}

/**
 * Links points ($1 sources, $2 `created` in microseconds since 2000, $3 digests) to the files of
 * their bundles ($4) by field name ($6), under the key ($5). A link seen before is kept once.
 */
const LINK_FILES_SQL = `INSERT INTO data_point_files (point_source, point_created, point_digest, file_id, key)
  SELECT l.source, ${timestampFromMicros('l.created')}, l.digest, f.id, l.k
  FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::bigint[], $5::text[], $6::text[]) AS l (source, created, digest, bundle_id, k, f)
  JOIN bundle_files f ON f.bundle_id = l.bundle_id AND f.field_name = l.f
  ON CONFLICT (point_source, point_created, point_digest, file_id) DO NOTHING`;

/** Step 5a: every copy's `@` keys, linked to its own bundle's files (also for points stored before). */
async function linkFiles(client: PoolClient, plan: BatchPlan): Promise<void> {
  const links = plan.points.flatMap((p) => (p.files ?? []).map((file) => ({ p, ...file })));
  if (links.length === 0) return;
  await client.query(
    LINK_FILES_SQL,
    [
      links.map((l) => l.p.source),
      integerArray(links.map((l) => l.p.created!)),
      `{${links.map((l) => l.p.digest).join(',')}}`,
      links.map((l) => plan.decoded[l.p.bundle].bundle.id),
      links.map((l) => l.k),
      links.map((l) => l.f),
    ],
  );
}

/**
 * How the bundles' own rows are written (large-bundle.ts stores one bundle in pieces): `partial`,
 * not at all (a piece before the last); otherwise with `addedBefore[i]` points added by earlier
 * pieces counted in.
 */
export interface BundleBookkeeping {
  partial?: boolean;
  addedBefore?: number[];
}

/** Step 5b: the counts for data_sources, source_point_deltas and the bundles. */
async function recordBatch(client: PoolClient, plan: BatchPlan, recordedPgMicros: number, bookkeeping: BundleBookkeeping): Promise<StoredBundle[]> {
  const sources = new Map<string, { latest: number; userAgent: string; n: number; recorded: number }>();
  const deltas = new Map<string, { source: string; generatorId: string; userAgent: string; n: number; first: number; last: number; received: number }>();
  const added = plan.bundles.map((_, i) => bookkeeping.addedBefore?.[i] ?? 0);
  // Points come in runs of one source, type and user agent: their group key is built once a run.
  let last: PlannedPoint | undefined;
  let group = '';
  for (const p of plan.points) {
    if (!p.isNew) continue;
    const created = p.created!;
    added[p.bundle] += 1;
    const recorded = plan.decoded[p.bundle].bundle.pointsRecordedMicros ?? recordedPgMicros;
    const source = sources.get(p.source);
    if (!source) sources.set(p.source, { latest: created, userAgent: p.userAgent, n: 1, recorded });
    else {
      source.n += 1;
      source.recorded = Math.max(source.recorded, recorded);
      if (created > source.latest) Object.assign(source, { latest: created, userAgent: p.userAgent });
    }
    if (!last || last.source !== p.source || last.generatorId !== p.generatorId || last.userAgent !== p.userAgent) {
      group = `${p.source}\u0000${p.generatorId}\u0000${p.userAgent}\u0000`;
    }
    last = p;
    // Before 2000 each point is its own group: date_bin then decides its bucket alone.
    const key = group + (created >= 0 ? Math.floor(created / BUCKET_MICROS) : `-${created}`);
    const received = plan.decoded[p.bundle].bundle.receivedMicros;
    const delta = deltas.get(key);
    if (!delta) deltas.set(key, { source: p.source, generatorId: p.generatorId, userAgent: p.userAgent, n: 1, first: created, last: created, received });
    else {
      delta.n += 1;
      delta.first = Math.min(delta.first, created);
      delta.last = Math.max(delta.last, created);
      delta.received = Math.max(delta.received, received);
    }
  }
  const s = [...sources.entries()];
  const d = [...deltas.values()];
  const b = bookkeeping.partial ? [] : plan.decoded.map((_, i) => i);
  await client.query({ name: 'dcs-record-batch', text: RECORD_BATCH_SQL, values: [
    s.map(([source]) => source), integerArray(s.map(([, v]) => v.latest)), s.map(([, v]) => v.userAgent), integerArray(s.map(([, v]) => v.n)),
    d.map((v) => v.source), d.map((v) => v.generatorId), d.map((v) => v.userAgent), integerArray(d.map((v) => v.n)),
    integerArray(d.map((v) => v.first)), integerArray(d.map((v) => v.last)), integerArray(d.map((v) => v.received)),
    b.map((i) => plan.decoded[i].bundle.id),
    b.map((i) => plan.bundles[i].total), b.map((i) => added[i]), b.map((i) => plan.bundles[i].rejected),
    b.map((i) => (plan.bundles[i].rejected > 0 ? JSON.stringify(plan.bundles[i].rejections) : null)),
    b.map((i) => (plan.bundles[i].sources.size > 0 ? JSON.stringify([...plan.bundles[i].sources].sort()) : null)),
    integerArray(s.map(([, v]) => v.recorded)),
    b.map((i) => timestampTextFromMicros(plan.decoded[i].bundle.receivedMicros)),
  ] });
  return plan.decoded.map((x, i) => ({ id: x.bundle.id, total: plan.bundles[i].total, added: added[i], rejected: plan.bundles[i].rejected }));
}

/** Stores `plan` (see above); `recordedPgMicros` is the transaction's now(), in microseconds since 2000 (micros.ts). */
export async function storeBatch(client: PoolClient, plan: BatchPlan, rules: Map<string, SecondaryRuleRow>, recordedPgMicros: number, bookkeeping: BundleBookkeeping = {}): Promise<StoredBundle[]> {
  if (plan.needsSql) await resolveInSql(client, plan, rules);
  await markNew(client, plan);
  await copyNew(client, plan, recordedPgMicros);
  await queueForHarvest(client, plan);
  await linkFiles(client, plan);
  const stored = await recordBatch(client, plan, recordedPgMicros, bookkeeping);
  await recordLatestStatus(client, plan);
  return stored;
}
