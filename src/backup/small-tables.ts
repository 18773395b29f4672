/**
 * The small tables a rebuild from the bundles cannot recreate (issue 19 §1): what the study team
 * said (source names, groups, alert suppression), who may log in (password hashes), API tokens
 * (hashes), REX configurations and their history, Amazon products' Keepa metadata (tokens cost
 * money), the report-job history, the donations' records (not the donated files) and the erasures
 * (the erased list and its audit). Each is copied whole every run, except Amazon products:
 * those changed since the previous run (their metadata can be large).
 *
 * Rows refer to each other by name, not id (a source's group by the group's name, a token's user
 * by user name), so a restore inserts them into any database, empty or not (`--merge`): a row whose
 * key is already there is left as it is.
 */

export interface SmallTable {
  table: string;
  /** The columns of a backed-up row, with the types the restore reads them as. */
  columns: string;
  /**
   * The rows to back up, as those columns. Amazon products are read in pages (their metadata can
   * be large): `$1` changed at or after this time (null: all), `$2` after this ASIN, `$3` rows per page.
   */
  select: string;
  paged?: true;
  /** Inserts the rows of `r` (jsonb_to_recordset of the columns); a row whose key exists is skipped. */
  insert: string;
}

export const SMALL_TABLES: readonly SmallTable[] = [
  {
    table: 'source_groups',
    columns: 'name text, suppress_alerts boolean, created_at timestamptz',
    select: 'SELECT name, suppress_alerts, created_at FROM source_groups ORDER BY name',
    insert: 'INSERT INTO source_groups (name, suppress_alerts, created_at) SELECT name, suppress_alerts, created_at FROM r ON CONFLICT DO NOTHING',
  },
  {
    table: 'data_sources',
    columns: 'source text, first_seen timestamptz, name text, group_name text, suppress_alerts boolean, removed_at timestamptz',
    select: `SELECT s.source, s.first_seen, s.name, g.name AS group_name, s.suppress_alerts, s.removed_at
             FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id ORDER BY s.source`,
    insert: `INSERT INTO data_sources (source, first_seen, name, group_id, suppress_alerts, removed_at)
             SELECT r.source, r.first_seen, r.name, g.id, r.suppress_alerts, r.removed_at FROM r LEFT JOIN source_groups g ON g.name = r.group_name
             ON CONFLICT DO NOTHING`,
  },
  {
    table: 'staff_users',
    columns: 'username text, password_hash text, is_admin boolean, created_at timestamptz, last_login_at timestamptz',
    select: 'SELECT username, password_hash, is_admin, created_at, last_login_at FROM staff_users ORDER BY username',
    insert: `INSERT INTO staff_users (username, password_hash, is_admin, created_at, last_login_at)
             SELECT username, password_hash, is_admin, created_at, last_login_at FROM r ON CONFLICT DO NOTHING`,
  },
  {
    table: 'api_tokens',
    columns: `kind text, name text, scope text, token_hash text, token_prefix text, username text, created_by text,
              created_at timestamptz, expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz`,
    select: `SELECT t.kind, t.name, t.scope, encode(t.token_hash, 'hex') AS token_hash, t.token_prefix, u.username, t.created_by,
                    t.created_at, t.expires_at, t.revoked_at, t.last_used_at
             FROM api_tokens t LEFT JOIN staff_users u ON u.id = t.user_id ORDER BY t.created_at, t.token_prefix`,
    insert: `INSERT INTO api_tokens (kind, name, scope, token_hash, token_prefix, user_id, created_by, created_at, expires_at, revoked_at, last_used_at)
             SELECT r.kind, r.name, r.scope, decode(r.token_hash, 'hex'), r.token_prefix, u.id, r.created_by, r.created_at, r.expires_at, r.revoked_at, r.last_used_at
             FROM r LEFT JOIN staff_users u ON u.username = r.username
             WHERE r.kind = 'service' OR u.id IS NOT NULL
             ON CONFLICT DO NOTHING`,
  },
  {
    table: 'app_configurations',
    columns: `name text, id_pattern text, context_pattern text, evaluation_order integer, enabled boolean, weight integer,
              document text, version integer, updated_at timestamptz, updated_by text`,
    select: `SELECT name, id_pattern, context_pattern, evaluation_order, enabled, weight, document, version, updated_at, updated_by
             FROM app_configurations ORDER BY name`,
    insert: `INSERT INTO app_configurations (name, id_pattern, context_pattern, evaluation_order, enabled, weight, document, version, updated_at, updated_by)
             SELECT name, id_pattern, context_pattern, evaluation_order, enabled, weight, document, version, updated_at, updated_by FROM r
             ON CONFLICT DO NOTHING`,
  },
  {
    table: 'app_configuration_versions',
    columns: `configuration text, version integer, name text, id_pattern text, context_pattern text, evaluation_order integer,
              enabled boolean, weight integer, document text, saved_at timestamptz, saved_by text`,
    select: `SELECT c.name AS configuration, v.version, v.name, v.id_pattern, v.context_pattern, v.evaluation_order, v.enabled, v.weight,
                    v.document, v.saved_at, v.saved_by
             FROM app_configuration_versions v JOIN app_configurations c ON c.id = v.configuration_id ORDER BY c.name, v.version`,
    insert: `INSERT INTO app_configuration_versions (configuration_id, version, name, id_pattern, context_pattern, evaluation_order, enabled, weight, document, saved_at, saved_by)
             SELECT c.id, r.version, r.name, r.id_pattern, r.context_pattern, r.evaluation_order, r.enabled, r.weight, r.document, r.saved_at, r.saved_by
             FROM r JOIN app_configurations c ON c.name = r.configuration ON CONFLICT DO NOTHING`,
  },
  {
    table: 'app_config_assignments',
    columns: 'identifier text, configuration text, assigned_at timestamptz, assigned_by text',
    select: `SELECT a.identifier, c.name AS configuration, a.assigned_at, a.assigned_by
             FROM app_config_assignments a JOIN app_configurations c ON c.id = a.configuration_id ORDER BY a.identifier`,
    insert: `INSERT INTO app_config_assignments (identifier, configuration_id, assigned_at, assigned_by)
             SELECT r.identifier, c.id, r.assigned_at, r.assigned_by FROM r JOIN app_configurations c ON c.name = r.configuration ON CONFLICT DO NOTHING`,
  },
  {
    table: 'app_config_draws',
    columns: 'identifier text, id_pattern text, configuration text, drawn_at timestamptz',
    select: `SELECT d.identifier, d.id_pattern, c.name AS configuration, d.drawn_at
             FROM app_config_draws d JOIN app_configurations c ON c.id = d.configuration_id ORDER BY d.identifier, d.id_pattern`,
    insert: `INSERT INTO app_config_draws (identifier, id_pattern, configuration_id, drawn_at)
             SELECT r.identifier, r.id_pattern, c.id, r.drawn_at FROM r JOIN app_configurations c ON c.name = r.configuration ON CONFLICT DO NOTHING`,
  },
  {
    table: 'app_config_served',
    columns: 'identifier text, configuration text, version integer, chosen_by text, served_at timestamptz',
    select: `SELECT s.identifier, c.name AS configuration, s.version, s.chosen_by, s.served_at
             FROM app_config_served s JOIN app_configurations c ON c.id = s.configuration_id ORDER BY s.identifier`,
    insert: `INSERT INTO app_config_served (identifier, configuration_id, version, chosen_by, served_at)
             SELECT r.identifier, c.id, r.version, r.chosen_by, r.served_at FROM r JOIN app_configurations c ON c.name = r.configuration ON CONFLICT DO NOTHING`,
  },
  {
    table: 'report_jobs',
    columns: `requested_by text, requested_at timestamptz, batch text, sequence integer, selection jsonb, sources text[], types text[],
              date_from date, date_to date, date_type text, format text, name_folder text, name_prefix text, file_name text,
              destinations text[], state text, attempts integer, points_written bigint, types_done integer, sources_done integer,
              started_at timestamptz, heartbeat_at timestamptz, finished_at timestamptz, error text, file_bytes bigint, stored_at text[]`,
    select: `SELECT requested_by, requested_at, batch, sequence, selection, sources, types, date_from, date_to, date_type, format, name_folder,
                    name_prefix, file_name, destinations, state, attempts, points_written, types_done, sources_done, started_at, heartbeat_at,
                    finished_at, error, file_bytes, stored_at
             FROM report_jobs ORDER BY id`,
    // A job running when the backup was made did not finish there: it comes back failed (retry it).
    insert: `INSERT INTO report_jobs (requested_by, requested_at, batch, sequence, selection, sources, types, date_from, date_to, date_type, format,
                    name_folder, name_prefix, file_name, destinations, state, attempts, points_written, types_done, sources_done, started_at,
                    heartbeat_at, finished_at, error, file_bytes, stored_at)
             SELECT requested_by, requested_at, batch, sequence, selection, sources, types, date_from, date_to, date_type, format, name_folder,
                    name_prefix, file_name, destinations, CASE WHEN state = 'running' THEN 'failed' ELSE state END, attempts, points_written,
                    types_done, sources_done, started_at, heartbeat_at, finished_at,
                    CASE WHEN state = 'running' THEN 'It was running when the backup was made; retry it.' ELSE error END, file_bytes, stored_at
             FROM r WHERE NOT EXISTS (SELECT 1 FROM report_jobs j WHERE j.requested_at = r.requested_at AND j.requested_by = r.requested_by
                                      AND j.name_prefix = r.name_prefix AND j.sequence IS NOT DISTINCT FROM r.sequence)`,
  },
  // Donations: the staff's source texts, the participants' requests (without their upload links:
  // a restored participant comes through the start page again) and the files that reached an end
  // (imported, refused, expired) with their counts and reasons, so that `uploads/<id>.json` and the
  // Donations page come back. Donated bytes and unconfirmed reviews are never backed up (docs/donations.md).
  {
    table: 'donation_sources',
    columns: 'identifier text, name text, instructions text, priority integer',
    select: 'SELECT identifier, name, instructions, priority FROM donation_sources ORDER BY identifier',
    // the migration seeds the sources: the study's own names and instructions replace the defaults
    insert: `INSERT INTO donation_sources (identifier, name, instructions, priority) SELECT identifier, name, instructions, priority FROM r
             ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, instructions = excluded.instructions, priority = excluded.priority`,
  },
  {
    table: 'donation_requests',
    columns: 'identifier text, email text, extras jsonb, requested_at timestamptz',
    select: 'SELECT identifier, email, extras, requested_at FROM donation_requests ORDER BY identifier',
    insert: `INSERT INTO donation_requests (identifier, email, extras, requested_at) SELECT identifier, email, extras, requested_at FROM r
             ON CONFLICT (identifier) DO NOTHING`,
  },
  {
    table: 'donation_request_sources',
    columns: 'identifier text, source text',
    select: `SELECT q.identifier, s.source FROM donation_request_sources s JOIN donation_requests q ON q.id = s.request_id ORDER BY q.identifier, s.source`,
    insert: `INSERT INTO donation_request_sources (request_id, source)
             SELECT q.id, r.source FROM r JOIN donation_requests q ON q.identifier = r.identifier JOIN donation_sources d ON d.identifier = r.source
             ON CONFLICT DO NOTHING`,
  },
  {
    table: 'donation_files',
    columns: `identifier text, source text, name text, size bigint, sha256 text, uploaded_at timestamptz, state text, state_changed_at timestamptz,
              participant_message text, staff_reason text, rows_extracted integer, rows_confirmed integer, points integer`,
    select: `SELECT q.identifier, f.source, f.name, f.size, encode(f.sha256, 'hex') AS sha256, f.uploaded_at, f.state, f.state_changed_at,
                    f.participant_message, f.staff_reason, f.rows_extracted, f.rows_confirmed, f.points
             FROM donation_files f JOIN donation_requests q ON q.id = f.request_id
             WHERE f.state IN ('imported', 'refused', 'expired') ORDER BY f.id`,
    insert: `INSERT INTO donation_files (request_id, source, name, size, sha256, uploaded_at, state, state_changed_at, participant_message, staff_reason,
                    rows_extracted, rows_confirmed, points)
             SELECT q.id, r.source, r.name, r.size, decode(r.sha256, 'hex'), r.uploaded_at, r.state, r.state_changed_at, r.participant_message,
                    r.staff_reason, r.rows_extracted, r.rows_confirmed, r.points
             FROM r JOIN donation_requests q ON q.identifier = r.identifier
             WHERE NOT EXISTS (SELECT 1 FROM donation_files f WHERE f.request_id = q.id AND f.source = r.source AND f.uploaded_at = r.uploaded_at
                                 AND f.name = r.name)`,
  },
  // Erasures (docs/data-quality.md): the erased list, so that a restore of older backups, which
  // still hold an erased participant's bundles, drops their points again; and the audit.
  {
    table: 'erased_sources',
    columns: 'identifier text, erased_at timestamptz, erased_by text',
    select: 'SELECT identifier, erased_at, erased_by FROM erased_sources ORDER BY identifier',
    insert: 'INSERT INTO erased_sources (identifier, erased_at, erased_by) SELECT identifier, erased_at, erased_by FROM r ON CONFLICT DO NOTHING',
  },
  {
    table: 'source_erasures',
    columns: 'identifier text, action text, done_by text, done_at timestamptz, counts jsonb, mixed_bundles bigint[], backups_before jsonb',
    select: 'SELECT identifier, action, done_by, done_at, counts, mixed_bundles, backups_before FROM source_erasures ORDER BY id',
    insert: `INSERT INTO source_erasures (identifier, action, done_by, done_at, counts, mixed_bundles, backups_before)
             SELECT r.identifier, r.action, r.done_by, r.done_at, r.counts, r.mixed_bundles, r.backups_before FROM r
             WHERE NOT EXISTS (SELECT 1 FROM source_erasures e WHERE e.identifier = r.identifier AND e.action = r.action AND e.done_at = r.done_at)`,
  },
  // Exclusion rules and their history (a rule is known by when and by whom it was made)
  {
    table: 'exclusion_rules',
    columns: `source text, group_name text, user_agent_pattern text, generator_id text, created_from timestamptz, created_to timestamptz,
              reason text, enabled boolean, created_by text, created_at timestamptz, updated_by text, updated_at timestamptz`,
    select: `SELECT source, group_name, user_agent_pattern, generator_id, created_from, created_to, reason, enabled, created_by, created_at,
                    updated_by, updated_at FROM exclusion_rules ORDER BY id`,
    insert: `INSERT INTO exclusion_rules (source, group_name, user_agent_pattern, generator_id, created_from, created_to, reason, enabled,
                    created_by, created_at, updated_by, updated_at)
             SELECT source, group_name, user_agent_pattern, generator_id, created_from, created_to, reason, enabled, created_by, created_at,
                    updated_by, updated_at FROM r
             WHERE NOT EXISTS (SELECT 1 FROM exclusion_rules e WHERE e.created_at = r.created_at AND e.created_by = r.created_by)`,
  },
  {
    table: 'exclusion_rule_history',
    columns: 'rule_created_at timestamptz, rule_created_by text, changed_at timestamptz, changed_by text, action text, rule jsonb',
    select: `SELECT e.created_at AS rule_created_at, e.created_by AS rule_created_by, h.changed_at, h.changed_by, h.action, h.rule
             FROM exclusion_rule_history h JOIN exclusion_rules e ON e.id = h.rule_id ORDER BY h.changed_at, e.id`,
    insert: `INSERT INTO exclusion_rule_history (rule_id, changed_at, changed_by, action, rule)
             SELECT e.id, r.changed_at, r.changed_by, r.action, r.rule FROM r
             JOIN exclusion_rules e ON e.created_at = r.rule_created_at AND e.created_by = r.rule_created_by
             WHERE NOT EXISTS (SELECT 1 FROM exclusion_rule_history h WHERE h.rule_id = e.id AND h.changed_at = r.changed_at AND h.action = r.action)`,
  },
  {
    table: 'amazon_products',
    columns: `asin text, first_seen timestamptz, last_seen timestamptz, points bigint, sources integer, ordered boolean, keepa_state text,
              keepa_attempts integer, keepa_next_attempt timestamptz, enriched_at timestamptz, metadata jsonb, title text, brand text,
              manufacturer text, product_type text, size text, root_category bigint, category_tree text, category_tree_ids text,
              seller text, added_at timestamptz, updated_at timestamptz`,
    select: `SELECT asin, first_seen, last_seen, points, sources, ordered, keepa_state, keepa_attempts, keepa_next_attempt, enriched_at, metadata,
                    title, brand, manufacturer, product_type, size, root_category, category_tree, category_tree_ids, seller, added_at, updated_at
             FROM amazon_products WHERE ($1::timestamptz IS NULL OR updated_at >= $1) AND asin > $2 ORDER BY asin LIMIT $3`,
    paged: true,
    // The newest copy of a product wins (later runs hold later changes); the harvest recounts its sightings from the points.
    insert: `INSERT INTO amazon_products AS p (asin, first_seen, last_seen, points, sources, ordered, keepa_state, keepa_attempts, keepa_next_attempt,
                    enriched_at, metadata, title, brand, manufacturer, product_type, size, root_category, category_tree, category_tree_ids, seller,
                    added_at, updated_at)
             SELECT asin, first_seen, last_seen, points, sources, ordered, keepa_state, keepa_attempts, keepa_next_attempt, enriched_at, metadata,
                    title, brand, manufacturer, product_type, size, root_category, category_tree, category_tree_ids, seller, added_at, updated_at FROM r
             ON CONFLICT (asin) DO UPDATE SET keepa_state = excluded.keepa_state, keepa_attempts = excluded.keepa_attempts,
               keepa_next_attempt = excluded.keepa_next_attempt, enriched_at = excluded.enriched_at, metadata = excluded.metadata,
               title = excluded.title, brand = excluded.brand, manufacturer = excluded.manufacturer, product_type = excluded.product_type,
               size = excluded.size, root_category = excluded.root_category, category_tree = excluded.category_tree,
               category_tree_ids = excluded.category_tree_ids, seller = excluded.seller, updated_at = excluded.updated_at
             WHERE excluded.updated_at > p.updated_at`,
  },
];

/** The statement that inserts `$1` (a JSON array of rows of `table`) as SMALL_TABLES says. */
export function restoreStatement(table: SmallTable): string {
  return `WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (${table.columns})) ${table.insert}`;
}
