/**
 * Each source's newest pdk-system-status point, kept in `source_latest_status` (migration 0030)
 * for the client-backlog check, which read it from data_points with one probe per source
 * (scale-out.md Q12: on a partitioned table, one per partition). One statement per batch that
 * stored any status point, in the batch's transaction: the newest of the batch per source
 * replaces the row only when it is newer by (created, content digest), so processing loops
 * committing in any order, and a late upload of an older status, leave the newest.
 */
import type { PoolClient } from '../db/database.ts';
import { integerArray, timestampFromMicros } from './micros.ts';
import type { BatchPlan } from './plan-points.ts';

export const STATUS_TYPE = 'pdk-system-status';

/*
 * $1 text[]  source
 * $2 int8[]  created (microseconds since 2000, micros.ts)
 * $3 uuid[]  content digest
 * $4 text[]  the point's JSON, as sent
 * Rows are written in source order, the order the batch's data_sources upsert locks them in.
 */
const RECORD_LATEST_STATUS_SQL = `
INSERT INTO source_latest_status AS s (source, created, content_digest, properties)
SELECT DISTINCT ON (source) source, ${timestampFromMicros('created')}, digest, point::jsonb
FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::text[]) AS u (source, created, digest, point)
ORDER BY source, created DESC, digest DESC
ON CONFLICT (source) DO UPDATE SET created = excluded.created, content_digest = excluded.content_digest, properties = excluded.properties
WHERE (excluded.created, excluded.content_digest) > (s.created, s.content_digest)`;

/** Records the batch's new status points (none: no statement). */
export async function recordLatestStatus(client: PoolClient, plan: BatchPlan): Promise<void> {
  const status = plan.points.filter((p) => p.isNew && p.generatorId === STATUS_TYPE);
  if (status.length === 0) return;
  await client.query({ name: 'dcs-record-latest-status', text: RECORD_LATEST_STATUS_SQL, values: [
    status.map((p) => p.source),
    integerArray(status.map((p) => p.created!)),
    `{${status.map((p) => p.digest).join(',')}}`,
    status.map((p) => plan.decoded[p.bundle].text.slice(p.start, p.end)),
  ] });
}
