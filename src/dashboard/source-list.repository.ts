/** Applying an uploaded source list (source-list.tsv.ts) to data_sources and source_groups. */
import type { PoolClient } from '../db/database.ts';
import type { ParsedSourceList } from './source-list.tsv.ts';

export interface SourceListResult {
  added: number;
  updated: number;
  unchanged: number;
  /** names left unchanged because another source, not in the file, has them */
  nameConflicts: string[];
}

/**
 * Adds the missing sources (and brings removed ones back: the list is the roster), sets names
 * and, when the file has a Group column, groups (created as needed). Set-based, in the caller's
 * transaction: a 10,000-line file is a handful of statements.
 */
export async function applySourceList(client: PoolClient, list: ParsedSourceList): Promise<SourceListResult> {
  const ids = list.entries.map((e) => e.source);
  const names = list.entries.map((e) => e.name);
  const groups = list.entries.map((e) => e.group);
  const { rows: conflicts } = await client.query<{ name: string }>(
    `SELECT name FROM data_sources WHERE name = ANY ($1::text[]) AND NOT (source = ANY ($2::text[]))`,
    [names.filter((n) => n !== null), ids],
  );
  const taken = new Set(conflicts.map((c) => c.name));
  if (list.hasGroup) {
    await client.query(`INSERT INTO source_groups (name) SELECT DISTINCT g FROM unnest($1::text[]) g WHERE g IS NOT NULL ON CONFLICT (name) DO NOTHING`, [groups]);
  }
  const { rows: added } = await client.query<{ source: string }>(
    `INSERT INTO data_sources (source, first_seen) SELECT unnest($1::text[]), now() ON CONFLICT (source) DO NOTHING RETURNING source`,
    [ids],
  );
  const addedSources = new Set(added.map((a) => a.source));
  const input = `unnest($1::text[], $2::text[], $3::text[], $6::boolean[]) AS i (source, name, group_name, keep_name)`;
  const keepName = names.map((n) => n !== null && taken.has(n));
  const params = [ids, names, groups];
  // The target of each row. Names move in two steps (cleared, then set) so two sources can swap
  // names in one file without tripping the unique index midway.
  const target = `
    SELECT s.source,
           CASE WHEN NOT $4 OR i.keep_name THEN s.name ELSE i.name END AS name,
           CASE WHEN $5 THEN g.id ELSE s.group_id END AS group_id
    FROM ${input} JOIN data_sources s ON s.source = i.source LEFT JOIN source_groups g ON g.name = i.group_name`;
  const { rows: changes } = await client.query<{ source: string }>(
    `WITH t AS (${target})
     SELECT t.source FROM t JOIN data_sources s ON s.source = t.source
     WHERE s.name IS DISTINCT FROM t.name OR s.group_id IS DISTINCT FROM t.group_id OR s.removed_at IS NOT NULL`,
    [...params, list.hasName, list.hasGroup, keepName],
  );
  await client.query(
    `WITH t AS (${target}) UPDATE data_sources s SET name = NULL FROM t WHERE s.source = t.source AND s.name IS DISTINCT FROM t.name`,
    [...params, list.hasName, list.hasGroup, keepName],
  );
  await client.query(
    `WITH t AS (${target}) UPDATE data_sources s SET name = t.name, group_id = t.group_id, removed_at = NULL FROM t WHERE s.source = t.source`,
    [...params, list.hasName, list.hasGroup, keepName],
  );
  const addedCount = addedSources.size;
  const updated = changes.filter((c) => !addedSources.has(c.source)).length;
  return { added: addedCount, updated, unchanged: ids.length - addedCount - updated, nameConflicts: [...taken] };
}
