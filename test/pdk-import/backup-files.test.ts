/**
 * `dcs import-pdk --backups DIR` on backup files made the original's way, through the real CLI:
 * the points come back with their source, type, created time and properties, the groups, sources
 * and configurations of the newest dumpdata copies are set, staff accounts are reported, a second
 * run changes nothing, and damaged, wrongly keyed or unkeyed files are clear errors that leave the
 * other files imported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';
import { SAMPLES, type Point } from '../helpers/samples.ts';
import { dumpRow, writeBackupFile } from './original-backup-files.ts';

const HOST = 'old-study.pdk.example.edu';
const KEY = nacl.randomBytes(32);
const KEY_TEXT = Buffer.from(KEY).toString('base64');
const WEBMUNK_TYPES = new Set([
  'webmunk-extension-action', 'webmunk-extension-element-click', 'webmunk-extension-element-hide', 'webmunk-extension-element-show',
  'webmunk-extension-log-elements', 'webmunk-extension-matched-rule', 'webmunk-extension-scroll-position', 'webmunk-extension-class-added',
]);

/** Every sample as the original stored it: with the encrypted_transmission its processing added. */
const POINTS: Point[] = SAMPLES.map((sample, i) => {
  const point = structuredClone(sample);
  point['passive-data-metadata'] = { ...point['passive-data-metadata'], encrypted_transmission: i % 2 === 0 };
  return point;
});
const typeOf = (p: Point) => p['passive-data-metadata']!['generator-id'] as string;

let db: TestDatabase;
let root: string;
const dcs = (args: string[], env: Record<string, string | undefined> = {}) => runDcs(['import-pdk', ...args], { databaseUrl: db.url, env: { BACKUP_KEY: undefined, PDK_BACKUP_KEY: undefined, ...env } });

/**
 * One backup run's files, as both hooks wrote them to the folder `<start>__<end>/`. The original's
 * PDK hook wrote only pdk-* types; the other samples (which no hook backs up) go into a PDK file of
 * their own window, since the import reads whatever a file holds.
 */
function writeStudyBackups(dir: string): void {
  const pdk = POINTS.filter((p) => typeOf(p).startsWith('pdk-'));
  const day1 = path.join(dir, '2024-03-04__2024-03-05');
  const prefix1 = `pdk_backup_${HOST}_2024-03-04_2024-03-04`;
  // Files of 4 points, as PDK_BACKUP_BUNDLE_SIZE = 4 would cut them.
  for (let at = 0; at < pdk.length; at += 4) writeBackupFile(day1, `${prefix1}_data_points_${at}_${pdk.length}.pdk-bundle.bz2.encrypted`, pdk.slice(at, at + 4), KEY);
  for (const type of WEBMUNK_TYPES) {
    const points = POINTS.filter((p) => typeOf(p) === type);
    writeBackupFile(day1, `webmunk_backup_${HOST}_2024-03-04_2024-03-04_${type}_data_points_0_${points.length}.webmunk-pd-bundle.gz.encrypted`, points, KEY);
  }
  const others = POINTS.filter((p) => !typeOf(p).startsWith('pdk-') && !WEBMUNK_TYPES.has(typeOf(p)));
  writeBackupFile(path.join(dir, '2024-03-05__2024-03-06'), `pdk_backup_${HOST}_2024-03-05_2024-03-05_data_points_0_${others.length}.pdk-bundle.bz2.encrypted`, others, KEY);

  // Dumps of two runs: only the newer copy counts.
  const dump = (day: string, model: string, rows: unknown[]) =>
    writeBackupFile(path.join(dir, `${day}__x`), `pdk_backup_${HOST}_${day}_${day}_${model}.json-dumpdata.bz2.encrypted`, rows, KEY);
  dump('2024-03-04', 'passive_data_kitdatasourcegroup', [dumpRow('passive_data_kit.datasourcegroup', 1, { name: 'stale copy', suppress_alerts: false })]);
  dump('2024-03-05', 'passive_data_kitdatasourcegroup', [
    dumpRow('passive_data_kit.datasourcegroup', 1, { name: 'Pilot', suppress_alerts: false }),
    dumpRow('passive_data_kit.datasourcegroup', 2, { name: 'Withdrawn', suppress_alerts: true }),
  ]);
  dump('2024-03-05', 'passive_data_kitappconfiguration', [
    dumpRow('passive_data_kit.appconfiguration', 7, { name: 'Arm A', id_pattern: '.*', context_pattern: '.*', configuration_json: { arm: 'a', 'amazon-fetch': true }, evaluate_order: 2, is_valid: true, is_enabled: true }),
  ]);
  dump('2024-03-05', 'passive_data_kitdatasource', [
    dumpRow('passive_data_kit.datasource', 10, { identifier: '48213077', name: 'Participant 12', group: 1, suppress_alerts: false, performance_metadata: { point_count: 3 }, server: null, configuration: 7 }),
    dumpRow('passive_data_kit.datasource', 11, { identifier: '60517733', name: '60517733', group: 2, suppress_alerts: true, performance_metadata: null, server: null, configuration: null }),
  ]);
  dump('2024-03-05', 'auth', [
    dumpRow('auth.user', 1, { username: 'pi', password: 'pbkdf2_sha256$600000$salt$hash=', is_staff: true, is_active: true, is_superuser: true }),
    dumpRow('auth.permission', 1, { name: 'Can add log entry', codename: 'add_logentry', content_type: 1 }),
  ]);
  dump('2024-03-05', 'passive_data_kitdevice', [dumpRow('passive_data_kit.device', 1, { source: '48213077', model: 1 })]);
  fs.writeFileSync(path.join(dir, 'README.txt'), 'downloaded from s3://old-study-backups\n');
}

async function storedPoints() {
  const { rows } = await db.pool.query(
    `SELECT source, generator_id, extract(epoch FROM created)::float8 AS created, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS recorded, properties
     FROM data_points ORDER BY source, generator_id, created, properties::text`,
  );
  return rows;
}

const sortKey = (p: { source: string; generator_id: string; created: number; properties: unknown }) => `${p.source}\u0000${p.generator_id}\u0000${p.created}\u0000${JSON.stringify(p.properties)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-pdk-backups-'));
});
afterAll(async () => {
  await db.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('dcs import-pdk --backups', () => {
  it('imports every point of the files, and the groups, sources and configurations of the newest dumps', async () => {
    const dir = path.join(root, 'study');
    writeStudyBackups(dir);
    const run = await dcs(['--backups', dir, '--key', KEY_TEXT]);
    expect(run.code, run.stderr + run.stdout).toBe(0);

    const expected = POINTS.map((p) => {
      const meta = p['passive-data-metadata']!;
      const day = typeOf(p).startsWith('pdk-') || WEBMUNK_TYPES.has(typeOf(p)) ? '2024-03-04' : '2024-03-05';
      return { source: meta.source, generator_id: typeOf(p), created: meta.timestamp, recorded: `${day} 00:00:00`, properties: p };
    });
    const stored = await storedPoints();
    expect(stored.length).toBe(POINTS.length);
    const byKey = (rows: typeof expected) => [...rows].sort((a, b) => (sortKey(a as never) < sortKey(b as never) ? -1 : 1));
    for (const [row, want] of byKey(stored).map((r, i) => [r, byKey(expected)[i]] as const)) {
      expect(row.source).toBe(want.source);
      expect(row.generator_id).toBe(want.generator_id);
      expect(row.created).toBeCloseTo(want.created as number, 5);
      expect(row.recorded).toBe(want.recorded);
      expect(row.properties).toEqual(want.properties);
    }

    const groups = await db.pool.query('SELECT name, suppress_alerts FROM source_groups ORDER BY name');
    expect(groups.rows).toEqual([{ name: 'Pilot', suppress_alerts: false }, { name: 'Withdrawn', suppress_alerts: true }]);
    const sources = await db.pool.query(
      `SELECT s.source, s.name, g.name AS group_name, s.suppress_alerts FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
       WHERE s.source IN ('48213077', '60517733') ORDER BY s.source`,
    );
    expect(sources.rows).toEqual([
      { source: '48213077', name: 'Participant 12', group_name: 'Pilot', suppress_alerts: false },
      { source: '60517733', name: null, group_name: 'Withdrawn', suppress_alerts: true },
    ]);
    const configurations = await db.pool.query(
      `SELECT c.name, c.id_pattern, c.evaluation_order, c.enabled, c.document, a.identifier FROM app_configurations c
       LEFT JOIN app_config_assignments a ON a.configuration_id = c.id`,
    );
    expect(configurations.rows.map((r) => ({ ...r, document: JSON.parse(r.document) }))).toEqual([
      { name: 'Arm A', id_pattern: '.*', evaluation_order: 2, enabled: true, document: { arm: 'a', 'amazon-fetch': true }, identifier: '48213077' },
    ]);
    expect(await db.pool.query('SELECT 1 FROM staff_users')).toMatchObject({ rowCount: 0 });

    // The report: both sides equal, per source and type; what the files cannot hold; what was not imported.
    const lines = run.stdout.split('\n');
    expect(lines).toContain(`total\t\t${POINTS.length}\t${POINTS.length}\t0`);
    expect(lines).toContain('48213077\twebmunk-amazon-order\t1\t1\t0');
    expect(run.stdout).toContain('Note: Backup files cannot hold every data type');
    expect(run.stdout).toMatch(/Amazon orders: webmunk-amazon-order and webmunk-amazon-order-count; local tasks: webmunk-local-tasks/);
    expect(run.stdout).toContain('Note: Staff accounts not imported: pi. Their passwords are Django PBKDF2 hashes');
    expect(run.stdout).toContain('Note: Not imported: 1 auth.permission rows');
    expect(run.stdout).toContain('Note: Not imported: 1 passive_data_kit.device rows');
    expect(run.stdout).toContain('passive_data_kitdatasourcegroup: read the newest copy');
    expect(run.stdout).toContain(`Note: Not read: ${path.join(dir, 'README.txt')}: not named like a backup file`);
    expect(run.stdout).toContain('Note: Backup files do not hold a point\'s recorded time');
    expect(run.stdout).toContain('Every point read was imported.');
  });

  it('changes nothing when run again', async () => {
    const dir = path.join(root, 'study');
    const count = async () => (await db.pool.query(`SELECT (SELECT count(*) FROM bundles)::int AS bundles, (SELECT count(*) FROM data_points)::int AS points,
      (SELECT count(*) FROM app_configuration_versions)::int AS versions, (SELECT count(*) FROM app_config_assignments)::int AS assignments,
      (SELECT json_agg(g ORDER BY id) FROM source_groups g) AS groups,
      (SELECT json_agg(json_build_array(source, name, group_id, suppress_alerts) ORDER BY source) FROM data_sources) AS sources`)).rows[0];
    const before = { ...(await count()), points: await storedPoints() };
    const run = await dcs(['--backups', dir], { PDK_BACKUP_KEY: KEY_TEXT });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect({ ...(await count()), points: await storedPoints() }).toEqual(before);
    expect(run.stderr).toContain('0 new points stored');
    expect(run.stdout).toContain('Configuration Arm A: one of that name is here already; kept as it is');

    // The same points from another origin (as from the original's database): new bundles, no new point.
    const copy = path.join(root, 'copy');
    fs.mkdirSync(copy);
    const [name] = fs.readdirSync(path.join(dir, '2024-03-05__2024-03-06'));
    fs.copyFileSync(path.join(dir, '2024-03-05__2024-03-06', name), path.join(copy, name.replace(HOST, 'renamed-host')));
    const again = await dcs(['--backups', copy, '--key', KEY_TEXT]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(await storedPoints()).toEqual(before.points);
    expect((await count()).bundles).toBeGreaterThan(before.bundles);
  });

  it('reports a damaged file, a file of another key and an encrypted file without a key, and imports the others', async () => {
    const dir = path.join(root, 'damaged');
    const source = 'damaged-test';
    const points = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({
      value: from + i,
      'passive-data-metadata': { source, generator: 'pdk-app-event: test', 'generator-id': 'pdk-app-event', timestamp: 1_700_000_000 + from + i, encrypted_transmission: false },
    }));
    const name = (i: number, total: number, tail: string) => `pdk_backup_other-host_2024-05-01_2024-05-01_data_points_${i}_${total}.pdk-bundle.bz2${tail}`;
    writeBackupFile(dir, name(0, 12, '.encrypted'), points(3, 0), KEY);
    const damaged = writeBackupFile(dir, name(3, 12, '.encrypted'), points(3, 3), KEY);
    const bytes = fs.readFileSync(damaged);
    bytes[bytes.length - 5] ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    writeBackupFile(dir, name(6, 12, '.encrypted'), points(3, 6), nacl.randomBytes(32));
    // Decrypted by the original's pdk_decrypt_backup_file, then cut short.
    const truncated = writeBackupFile(dir, name(9, 12, ''), points(3, 9));
    fs.truncateSync(truncated, fs.statSync(truncated).size - 20);
    // A point the original could not have stored (no passive-data-metadata): reported, the others imported.
    writeBackupFile(dir, 'pdk_backup_other-host_2024-05-02_2024-05-02_data_points_0_3.pdk-bundle.bz2', [...points(2, 20), { value: 22 }]);

    const run = await dcs(['--backups', dir, '--key', KEY_TEXT]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Note: File not imported: ${damaged} cannot be opened with this key: the key is not the one the original encrypted it with, or the file is damaged`);
    expect(run.stdout).toContain(`Note: File not imported: ${path.join(dir, name(6, 12, '.encrypted'))} cannot be opened with this key`);
    expect(run.stdout).toMatch(new RegExp(`Note: File not imported: ${truncated.replaceAll('.', '\\.')} cannot be decompressed \\(bz2: damaged or cut short\\)`));
    expect(run.stdout).toContain('pdk_backup_other-host_2024-05-01_2024-05-01_data_points_…: 3 points read of the 12 its file names announce');
    const { rows } = await db.pool.query('SELECT (properties->>\'value\')::int AS value FROM data_points WHERE source = $1 ORDER BY 1', [source]);
    expect(rows.map((r) => r.value)).toEqual([0, 1, 2, 20, 21]);
    expect(run.stdout).toContain('1 points could not be imported:\n  pdk_backup_other-host_2024-05-02_2024-05-02_data_points_0_3.pdk-bundle.bz2 point 2: no passive-data-metadata object');

    const unkeyed = await dcs(['--backups', dir]);
    expect(unkeyed.code).toBe(1);
    expect(unkeyed.stderr).toContain('No key (--key, BACKUP_KEY or PDK_BACKUP_KEY): encrypted files cannot be read');
    expect(unkeyed.stdout).toContain(`Note: File not imported: ${path.join(dir, name(0, 12, '.encrypted'))} is encrypted and no key was given`);
    expect(unkeyed.stdout).toContain(`${source}\tpdk-app-event\t2\t5\t3`);
  });

  it('stops a file at a point over MAX_POINT_BYTES, keeping the points before it, and says what to do', async () => {
    const dir = path.join(root, 'large');
    const meta = (i: number) => ({ source: 'large-test', generator: 'pdk-app-event: test', 'generator-id': 'pdk-app-event', timestamp: 1_700_000_000 + i });
    const file = writeBackupFile(dir, 'pdk_backup_h_2024-06-01_2024-06-01_data_points_0_3.pdk-bundle.bz2', [
      { n: 0, 'passive-data-metadata': meta(0) }, { n: 1, text: 'x'.repeat(2000), 'passive-data-metadata': meta(1) }, { n: 2, 'passive-data-metadata': meta(2) },
    ]);
    const run = await dcs(['--backups', dir], { MAX_POINT_BYTES: '1024', TIME_ZONE: 'America/Chicago' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Note: File not imported: ${file} holds a data point larger than 1024 bytes (MAX_POINT_BYTES): raise MAX_POINT_BYTES and run the import again (the point read before was imported).`);
    // recorded: the window's first day at 00:00 in the original's TIME_ZONE (CDT, UTC-5)
    const { rows } = await db.pool.query(
      `SELECT (properties->>'n')::int AS n, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS recorded FROM data_points WHERE source = 'large-test'`,
    );
    expect(rows).toEqual([{ n: 0, recorded: '2024-06-01 05:00' }]);
  });

  it('reads two servers\' dumps each with its own keys (a group pk means a different group on each)', async () => {
    const dir = path.join(root, 'two-servers');
    for (const [host, group] of [['a.example.org', 'Site A'], ['b.example.org', 'Site B']]) {
      writeBackupFile(dir, `pdk_backup_${host}_2024-07-01_2024-07-01_passive_data_kitdatasourcegroup.json-dumpdata.bz2`, [dumpRow('passive_data_kit.datasourcegroup', 1, { name: group, suppress_alerts: false })]);
      writeBackupFile(dir, `pdk_backup_${host}_2024-07-01_2024-07-01_passive_data_kitdatasource.json-dumpdata.bz2`, [
        dumpRow('passive_data_kit.datasource', 1, { identifier: `${host}-1`, name: `${host}-1`, group: 1, suppress_alerts: false, configuration: null }),
      ]);
    }
    const run = await dcs(['--backups', dir]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT s.source, g.name FROM data_sources s JOIN source_groups g ON g.id = s.group_id WHERE s.source LIKE '%.example.org-1' ORDER BY 1`,
    );
    expect(rows).toEqual([{ source: 'a.example.org-1', name: 'Site A' }, { source: 'b.example.org-1', name: 'Site B' }]);
  });

  it('refuses a key that is not one, and a folder that is not there', async () => {
    const badKey = await dcs(['--backups', root, '--key', 'c2hvcnQ=']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('--key must be the base64 of a 32-byte key');
    const noDir = await dcs(['--backups', path.join(root, 'nowhere')]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('no such folder');
  });
});
