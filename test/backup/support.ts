/** Helpers of the backup and restore tests: a study to back up, and what must come back equal. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { generateSecretKey } from '../../src/crypto/secretbox.ts';
import { SAMPLES, type Point } from '../helpers/samples.ts';

export const BACKUP_KEY = generateSecretKey();

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-backup-test-'));
}

/** `n` distinct points of every sample type for `source`, from `seconds` on (each with 1 KB that gzip cannot shrink). */
export function studyPoints(source: string, n: number, seconds = 1_765_000_000): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const point = structuredClone(SAMPLES[i % SAMPLES.length]);
    point['backup-test'] = i;
    point.noise = randomBytes(750).toString('base64');
    point['passive-data-metadata'] = { ...point['passive-data-metadata'], source, timestamp: seconds + i };
    return point;
  });
}

/** What the team said and did that points cannot recreate: names, a group, an account, a token, a configuration, a product. */
export async function addTeamData(pool: pg.Pool): Promise<void> {
  await pool.query(`INSERT INTO source_groups (name, suppress_alerts) VALUES ('pilot', true)`);
  // Registered by the team, never uploaded: the status checks raise "Data never uploaded" for it.
  await pool.query(`INSERT INTO data_sources (source, first_seen, name) VALUES ('p-silent', now() - interval '2 days', 'Silent one')`);
  await pool.query(`UPDATE data_sources SET name = 'Participant one', group_id = (SELECT id FROM source_groups WHERE name = 'pilot') WHERE source = 'p-1'`);
  await pool.query(`INSERT INTO staff_users (username, password_hash, is_admin) VALUES ('ana', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', true)`);
  await pool.query(`INSERT INTO api_tokens (kind, name, scope, token_hash, token_prefix, created_by) VALUES ('service', 'enrollment', 'read-write', '\\x0102', 'dcs_ab', 'ana')`);
  await pool.query(`INSERT INTO app_configurations (name, id_pattern, document, updated_by) VALUES ('arm-a', '^p-', '{"enabled": true}', 'ana')`);
  await pool.query(`INSERT INTO app_configuration_versions (configuration_id, version, name, id_pattern, context_pattern, evaluation_order, enabled, document, saved_by)
                    SELECT id, 1, name, id_pattern, context_pattern, evaluation_order, enabled, document, 'ana' FROM app_configurations`);
  await pool.query(`INSERT INTO app_config_assignments (identifier, configuration_id, assigned_by) SELECT 'p-2', id, 'ana' FROM app_configurations`);
  await pool.query(`INSERT INTO amazon_products (asin, first_seen, last_seen, keepa_state, enriched_at, metadata, title)
                    VALUES ('B000000001', now(), now(), 'enriched', now(), '{"keepa": true}', 'A product')`);
  // a donation: the team's own source text, a request with an imported and a refused file, and a file
  // still awaiting review (its review is sealed to a link a restore cannot bring back: not backed up)
  await pool.query(`INSERT INTO exclusion_rules (source, reason, created_by, updated_by) VALUES ('dev-99', 'the team''s test install', 'ana', 'ana')`);
  await pool.query(`INSERT INTO exclusion_rule_history (rule_id, changed_by, action, rule) SELECT id, 'ana', 'created', to_jsonb(r) - 'id' FROM exclusion_rules r`);
  await pool.query(`UPDATE donation_sources SET name = 'Your Amazon orders', instructions = 'Open amazon.com…' WHERE identifier = 'amazon'`);
  const { rows: [request] } = await pool.query(`INSERT INTO donation_requests (identifier, email, extras) VALUES ('p-1', 'p-1', '{"amazon_start": "01/01/2022"}') RETURNING id`);
  await pool.query(`INSERT INTO donation_request_sources (request_id, source) VALUES ($1, 'amazon'), ($1, 'chatgpt')`, [request.id]);
  await pool.query(`INSERT INTO donation_files (request_id, source, name, size, sha256, state, rows_extracted, rows_confirmed, points, participant_message, staff_reason)
                    VALUES ($1, 'amazon', 'Items.csv', 2048, '\\xabcd', 'imported', 3, 2, 4, NULL, NULL),
                           ($1, 'chatgpt', 'x.zip', 10, NULL, 'refused', NULL, NULL, NULL, 'This is not a ZIP file.', 'not a ZIP'),
                           ($1, 'amazon', 'later.csv', 99, NULL, 'awaiting-confirmation', 1, NULL, NULL, NULL, NULL)`, [request.id]);
  // an erased participant: the list keeps its later (and restored) uploads out
  await pool.query(`INSERT INTO erased_sources (identifier, erased_by) VALUES ('p-gone', 'ana')`);
  await pool.query(`INSERT INTO source_erasures (identifier, action, done_by, counts, mixed_bundles, backups_before)
                    VALUES ('p-gone', 'erase', 'ana', '{"data_points": 12}', '{7}', '[{"name": "2026-12-01T000000Z", "destinations": ["folder"]}]')`);
}

/** Every point as the issue compares them: source, type, created, content digest, properties, and its recorded time. */
export async function pointRows(pool: pg.Pool): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT source, generator_id, created::text, content_digest::text, properties::text, recorded::text
     FROM data_points ORDER BY source, generator_id, created, content_digest`,
  );
  return rows;
}

export async function teamRows(pool: pg.Pool): Promise<unknown> {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    sources: await q(`SELECT s.source, s.name, g.name AS group_name, g.suppress_alerts, s.point_count::int, s.latest_point_recorded::text
                      FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id ORDER BY s.source`),
    users: await q('SELECT username, password_hash, is_admin FROM staff_users ORDER BY username'),
    tokens: await q(`SELECT name, scope, encode(token_hash, 'hex') AS hash FROM api_tokens ORDER BY name`),
    configurations: await q(`SELECT c.name, c.document, v.version, a.identifier FROM app_configurations c
                             JOIN app_configuration_versions v ON v.configuration_id = c.id LEFT JOIN app_config_assignments a ON a.configuration_id = c.id`),
    products: await q(`SELECT asin, keepa_state, metadata, title FROM amazon_products ORDER BY asin`),
    alerts: await q(`SELECT source, check_id, name, level, active FROM alerts ORDER BY source, check_id, name`),
    erased: await q('SELECT identifier, erased_at::text, erased_by FROM erased_sources ORDER BY identifier'),
    erasures: await q('SELECT identifier, action, done_by, done_at::text, counts, mixed_bundles, backups_before FROM source_erasures ORDER BY id'),
    donationSources: await q('SELECT identifier, name, instructions FROM donation_sources ORDER BY identifier'),
    exclusions: await q(`SELECT e.source, e.reason, e.enabled, e.created_by, e.created_at::text, h.action, h.rule->>'reason' AS recorded_reason
                         FROM exclusion_rules e LEFT JOIN exclusion_rule_history h ON h.rule_id = e.id ORDER BY e.created_at, h.changed_at`),
    donations: await q(`SELECT r.identifier, r.extras, (SELECT array_agg(source ORDER BY source) FROM donation_request_sources WHERE request_id = r.id) AS sources,
                               f.source, f.name, f.size::int, encode(f.sha256, 'hex') AS sha256, f.uploaded_at::text, f.state, f.points, f.participant_message
                        FROM donation_requests r JOIN donation_files f ON f.request_id = r.id
                        WHERE f.state IN ('imported', 'refused', 'expired') ORDER BY f.name`),
  };
}
