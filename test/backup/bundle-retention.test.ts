/**
 * BUNDLE_RETENTION_DAYS: the job `bundle-retention` drops only processed bundles that are old
 * enough and, while backups are on, already in a backup; never their points.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleRetentionJob } from '../../src/backup/bundle-retention.job.ts';
import { loadConfig } from '../../src/config.ts';
import { extensionPoint, uploadPoints } from '../helpers/pdk-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runOk } from '../monitoring/support.ts';

let server: TestServer;
const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-retention-'));
const ids = async (sql: string) => (await server.db.pool.query(sql)).rows.map((r) => Number(r.id));
const allBundles = () => ids('SELECT id FROM bundles ORDER BY id');

/** Uploads one bundle (processed unless `pending`), received `daysAgo` days ago; returns its id. */
async function bundleReceived(daysAgo: number, marker: number, options: { pending?: boolean; errored?: boolean } = {}): Promise<number> {
  await uploadPoints(server.baseUrl, [extensionPoint(`retention-${marker}`, 'webmunk-page-visit', 1_780_000_000 + marker)]);
  const [id] = await ids('SELECT max(id) AS id FROM bundles');
  if (!options.pending) await server.process();
  if (options.errored) await server.db.pool.query(`UPDATE bundles SET status = 'errored', error = 'test' WHERE id = $1`, [id]);
  await server.db.pool.query(`UPDATE bundles SET received_at = now() - make_interval(days => $2) WHERE id = $1`, [id, daysAgo]);
  return id;
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(backupDir, { recursive: true, force: true });
});

describe('bundle retention', () => {
  it('is off unless BUNDLE_RETENTION_DAYS is set, and then keeps everything', async () => {
    await bundleReceived(400, 1);
    expect(bundleRetentionJob.enabled!(server.config)).toBe(false);
    expect(await runOk(server.db.pool, server.config, bundleRetentionJob)).toEqual({ dropped: 0 });
    expect(await allBundles()).toHaveLength(1);
  });

  it('rejects a retention that is not a whole number of days', () => {
    expect(() => loadConfig({ BUNDLE_RETENTION_DAYS: '0' })).toThrow(/BUNDLE_RETENTION_DAYS must be an integer between 1/);
    expect(() => loadConfig({ BUNDLE_RETENTION_DAYS: '1.5' })).toThrow(/BUNDLE_RETENTION_DAYS/);
  });

  it('with backups on, drops only old processed bundles already backed up, and keeps their points', async () => {
    const [first] = await allBundles(); // from the test above: 400 days old, in no backup yet
    const backedUp = await bundleReceived(40, 2);
    const notBackedUp = await bundleReceived(40, 3);
    const recent = await bundleReceived(5, 4);
    const errored = await bundleReceived(40, 5, { errored: true });
    const pending = await bundleReceived(40, 6, { pending: true }); // last: the others' processing would take it
    // a backup took `backedUp` (and the recent one) off the queue
    await server.db.pool.query('DELETE FROM backup_queue WHERE bundle_id = ANY($1)', [[backedUp, recent]]);
    const config = loadConfig({ ...envOf(server), BUNDLE_RETENTION_DAYS: '30', BACKUP_KEY: Buffer.alloc(32, 7).toString('base64'), BACKUP_DIR: backupDir });
    const points = await ids('SELECT count(*) AS id FROM data_points');
    expect(await runOk(server.db.pool, config, bundleRetentionJob)).toEqual({ dropped: 1 });
    expect(await allBundles()).toEqual([first, notBackedUp, recent, errored, pending]);
    expect(await ids('SELECT count(*) AS id FROM data_points')).toEqual(points);
  });

  it('with backups off, drops every old processed bundle, its queue row with it', async () => {
    const config = loadConfig({ ...envOf(server), BUNDLE_RETENTION_DAYS: '30' });
    const [, , recent, errored, pending] = await allBundles();
    expect(await runOk(server.db.pool, config, bundleRetentionJob)).toEqual({ dropped: 2 });
    expect(await allBundles()).toEqual([recent, errored, pending]);
    expect(await ids('SELECT bundle_id AS id FROM backup_queue WHERE bundle_id NOT IN (SELECT id FROM bundles)')).toEqual([]);
  });
});

/** The test server's own settings, for a configuration with more set. */
function envOf(s: TestServer): Record<string, string> {
  return { DATABASE_URL: s.db.url, LOG_LEVEL: 'silent', DATA_DIR: s.config.dataDir };
}
