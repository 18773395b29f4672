/**
 * The original's groups and sources (passive_data_kit_datasourcegroup, …_datasource) → our
 * source_groups and data_sources: names, groups, and the alerts' suppression flags (a source's own
 * and its group's). Idempotent, and what the study team already set here wins: a name or a group
 * is only filled in where ours has none, and suppression is only ever added (never lifted).
 *
 * Alerts themselves (…_datasourcealert) are not copied: our status checks raise their own.
 */
import type pg from 'pg';
import type { Pool } from '../db/database.ts';
import type { ImportReport } from './import-report.ts';
import { pagesById } from './original-database.ts';

const PAGE_SIZE = 1000;

interface OriginalSource {
  id: number;
  identifier: string;
  name: string;
  group_name: string | null;
  suppress_alerts: boolean;
  remote: boolean;
}

export interface SourcesImport {
  groups: number;
  sources: number;
  /** Sources new here (the others existed: from points processed before, or the dashboard). */
  added: number;
}

async function importGroups(pool: Pool, client: pg.Client): Promise<number> {
  let groups = 0;
  for await (const page of pagesById<{ id: number; name: string; suppress_alerts: boolean }>(client, {
    columns: 'name, suppress_alerts', table: 'passive_data_kit_datasourcegroup', pageSize: PAGE_SIZE,
  })) {
    // The original's group names are not unique; ours are: same-named groups become one.
    await pool.query(
      `INSERT INTO source_groups AS g (name, suppress_alerts)
       SELECT name, bool_or(suppress) FROM unnest($1::text[], $2::boolean[]) AS u (name, suppress) GROUP BY name
       ON CONFLICT (name) DO UPDATE SET suppress_alerts = g.suppress_alerts OR excluded.suppress_alerts`,
      [page.map((g) => g.name), page.map((g) => g.suppress_alerts)],
    );
    groups += page.length;
  }
  return groups;
}

export async function importSources(pool: Pool, client: pg.Client, report: ImportReport, has: (table: string) => boolean): Promise<SourcesImport> {
  const result: SourcesImport = { groups: 0, sources: 0, added: 0 };
  if (has('passive_data_kit_datasourcegroup')) result.groups = await importGroups(pool, client);
  if (!has('passive_data_kit_datasource')) return result;
  // Older PDK versions lack some of these columns.
  const { rows: columnRows } = await client.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'passive_data_kit_datasource'`,
  );
  const columns = new Set(columnRows.map((c) => c.name));
  const withGroups = has('passive_data_kit_datasourcegroup') && columns.has('group_id');
  const takenNames: string[] = [];
  let remote = 0;
  for await (const page of pagesById<OriginalSource>(client, {
    columns: `identifier, name, ${columns.has('suppress_alerts') ? 'suppress_alerts' : 'false'} AS suppress_alerts,
              ${columns.has('server_id') ? 'server_id IS NOT NULL' : 'false'} AS remote,
              ${withGroups ? '(SELECT g.name FROM passive_data_kit_datasourcegroup g WHERE g.id = s.group_id)' : 'NULL'} AS group_name`,
    table: 'passive_data_kit_datasource s',
    pageSize: PAGE_SIZE,
  })) {
    // Identifiers are not unique there: the first row of an identifier is the one kept.
    const seen = new Set<string>();
    const rows = page.filter((s) => !seen.has(s.identifier) && seen.add(s.identifier));
    remote += rows.filter((s) => s.remote).length;
    // The original names a source after its identifier until someone renames it; ours shows the identifier when the name is NULL.
    const names = rows.map((s) => (s.name === s.identifier ? null : s.name));
    const { rows: taken } = await pool.query<{ name: string }>(
      'SELECT name FROM data_sources WHERE name = ANY($1::text[]) AND NOT (source = ANY($2::text[]))',
      [names.filter((n) => n !== null), rows.map((s) => s.identifier)],
    );
    const takenHere = new Set(taken.map((t) => t.name));
    takenNames.push(...takenHere);
    const { rows: upserted } = await pool.query<{ inserted: boolean }>(
      `INSERT INTO data_sources AS s (source, first_seen, name, group_id, suppress_alerts)
       SELECT u.source, now(), u.name, g.id, u.suppress
       FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS u (source, name, group_name, suppress)
       LEFT JOIN source_groups g ON g.name = u.group_name
       ON CONFLICT (source) DO UPDATE SET
         name = coalesce(s.name, excluded.name), group_id = coalesce(s.group_id, excluded.group_id),
         suppress_alerts = s.suppress_alerts OR excluded.suppress_alerts
       RETURNING (xmax = 0) AS inserted`,
      [rows.map((s) => s.identifier), names.map((n) => (n !== null && takenHere.has(n) ? null : n)), rows.map((s) => s.group_name), rows.map((s) => s.suppress_alerts)],
    );
    result.sources += rows.length;
    result.added += upserted.filter((u) => u.inserted).length;
  }
  if (takenNames.length > 0) {
    report.notes.push(`${takenNames.length} source names are taken by other sources here and were not set: ${takenNames.slice(0, 5).join(', ')}${takenNames.length > 5 ? ', …' : ''}`);
  }
  if (remote > 0) {
    report.notes.push(`${remote} sources belong to another server (DataSource.server): the original forwarded their points there, so it has none of them to import`);
  }
  if (has('passive_data_kit_datasourcealert')) {
    const { rows: [alerts] } = await client.query<{ active: number }>('SELECT count(*)::int AS active FROM passive_data_kit_datasourcealert WHERE active');
    if (alerts.active > 0) report.notes.push(`the original's ${alerts.active} active alerts are not copied: the status checks here raise their own (suppression is imported)`);
  }
  return result;
}
