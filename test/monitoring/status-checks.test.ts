/**
 * status-checks: the alert state machine (open, refresh, level change, close; suppressed source
 * and group, removed source, disabled check) and each check's thresholds and messages.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { describeUploadAge } from '../../src/monitoring/checks/upload-overdue.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { samples } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { activeAlert, alertsOf, CHROME, daysAgo, HEADLESS, hoursAgo, insertSource, pointAt, runOk } from './support.ts';

let db: TestDatabase;
let config: Config;
const configWith = (env: Record<string, string> = {}) => loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...env });
const check = (withConfig = config) => runOk(db.pool, withConfig, statusChecksJob);

beforeAll(async () => {
  db = await createTestDatabase();
  config = configWith({ UPLOAD_WARNING_HOURS: '4', UPLOAD_CRITICAL_HOURS: '24' });
});
afterAll(async () => {
  await db?.drop();
});

describe('upload-overdue and the alert state machine', () => {
  beforeEach(async () => {
    await db.pool.query('TRUNCATE alerts, data_sources, source_groups CASCADE');
  });

  it('raises nothing for a recent upload, a warning from 4 hours, critical from 24, critical when never uploaded', async () => {
    await insertSource(db.pool, 'fresh', { latestCreated: hoursAgo(3.9) });
    await insertSource(db.pool, 'late', { latestCreated: hoursAgo(5.5) });
    await insertSource(db.pool, 'very-late', { latestCreated: hoursAgo(36) });
    await insertSource(db.pool, 'never');
    expect(await check()).toEqual({ sources: 4, opened: 3, updated: 0, closed: 0 });
    expect(await activeAlert(db.pool, 'fresh', 'upload-overdue')).toBeUndefined();
    expect(await activeAlert(db.pool, 'late', 'upload-overdue')).toMatchObject({
      name: 'Data upload is overdue', level: 'warning', details: { message: expect.stringMatching(/^Latest data was uploaded 5\.5\d hours ago\.$/) },
    });
    expect(await activeAlert(db.pool, 'very-late', 'upload-overdue')).toMatchObject({
      name: 'Data upload is critically overdue', level: 'critical', details: { message: expect.stringMatching(/^Latest data was uploaded 1\.50 days ago\.$/) },
    });
    expect(await activeAlert(db.pool, 'never', 'upload-overdue')).toMatchObject({
      name: 'Data never uploaded', level: 'critical', details: { message: 'No data has been uploaded from this user.' },
    });
  });

  it('formats the age as the original (hours below 24, days from 24)', () => {
    expect(describeUploadAge(4 * 3600)).toBe('Latest data was uploaded 4.00 hours ago.');
    expect(describeUploadAge(23.999 * 3600)).toBe('Latest data was uploaded 24.00 hours ago.');
    expect(describeUploadAge(24 * 3600)).toBe('Latest data was uploaded 1.00 days ago.');
    expect(describeUploadAge(90 * 3600)).toBe('Latest data was uploaded 3.75 days ago.');
  });

  it('uses the configured thresholds', async () => {
    await insertSource(db.pool, 'late', { latestCreated: hoursAgo(5.5) });
    expect(await check(configWith({ UPLOAD_WARNING_HOURS: '6', UPLOAD_CRITICAL_HOURS: '8' }))).toMatchObject({ opened: 0 });
    expect(await check(configWith({ UPLOAD_WARNING_HOURS: '1', UPLOAD_CRITICAL_HOURS: '5' }))).toMatchObject({ opened: 1 });
    expect(await activeAlert(db.pool, 'late', 'upload-overdue')).toMatchObject({ level: 'critical' });
  });

  it('refreshes an alert of the same name and level, and replaces one whose level changes', async () => {
    await insertSource(db.pool, 'p1', { latestCreated: hoursAgo(5) });
    await check();
    const opened = (await activeAlert(db.pool, 'p1', 'upload-overdue'))!;
    await insertSource(db.pool, 'p1', { latestCreated: hoursAgo(6) });
    expect(await check()).toMatchObject({ opened: 0, updated: 1, closed: 0 });
    const refreshed = (await activeAlert(db.pool, 'p1', 'upload-overdue'))!;
    expect(refreshed.id).toBe(opened.id);
    expect(refreshed.created).toEqual(opened.created);
    expect(refreshed.updated.getTime()).toBeGreaterThan(opened.updated.getTime());
    expect(refreshed.details.message).toMatch(/^Latest data was uploaded 6\.0\d hours ago\.$/);

    await insertSource(db.pool, 'p1', { latestCreated: hoursAgo(30) });
    expect(await check()).toMatchObject({ opened: 1, updated: 0, closed: 1 });
    const [old, current] = await alertsOf(db.pool, 'p1', 'upload-overdue');
    expect(old).toMatchObject({ id: opened.id, active: false, level: 'warning' });
    expect(current).toMatchObject({ active: true, level: 'critical', name: 'Data upload is critically overdue' });
    // Closed and opened in one transaction: the old one ends when the new one starts.
    expect(old.updated).toEqual(current.created);
  });

  it('closes the alert when the problem is gone', async () => {
    await insertSource(db.pool, 'p2', { latestCreated: hoursAgo(5) });
    await check();
    await insertSource(db.pool, 'p2', { latestCreated: hoursAgo(0.1) });
    expect(await check()).toMatchObject({ opened: 0, updated: 0, closed: 1 });
    const [alert] = await alertsOf(db.pool, 'p2');
    expect(alert.active).toBe(false);
    expect(alert.updated.getTime()).toBeGreaterThan(alert.created.getTime());
  });

  it('closes and stops raising alerts of suppressed sources, sources of suppressed groups and removed sources', async () => {
    const { rows: [group] } = await db.pool.query(`INSERT INTO source_groups (name) VALUES ('pilot') RETURNING id`);
    await insertSource(db.pool, 'quiet', { latestCreated: hoursAgo(30) });
    await insertSource(db.pool, 'grouped', { latestCreated: hoursAgo(30), groupId: Number(group.id) });
    await insertSource(db.pool, 'gone', { latestCreated: hoursAgo(30) });
    await insertSource(db.pool, 'loud', { latestCreated: hoursAgo(30) });
    expect(await check()).toMatchObject({ sources: 4, opened: 4 });

    await db.pool.query(`UPDATE data_sources SET suppress_alerts = true WHERE source = 'quiet'`);
    await db.pool.query(`UPDATE source_groups SET suppress_alerts = true WHERE id = $1`, [group.id]);
    await db.pool.query(`UPDATE data_sources SET removed_at = now() WHERE source = 'gone'`);
    expect(await check()).toEqual({ sources: 1, opened: 0, updated: 1, closed: 3 });
    for (const source of ['quiet', 'grouped', 'gone']) expect(await activeAlert(db.pool, source, 'upload-overdue'), source).toBeUndefined();
    expect(await activeAlert(db.pool, 'loud', 'upload-overdue')).toBeDefined();
    expect(await check()).toMatchObject({ opened: 0, closed: 0 });

    // Lifting the suppression raises the alert again, as a new one.
    await db.pool.query(`UPDATE source_groups SET suppress_alerts = false WHERE id = $1`, [group.id]);
    expect(await check()).toMatchObject({ opened: 1, closed: 0 });
    expect((await alertsOf(db.pool, 'grouped')).map((a) => a.active)).toEqual([false, true]);
  });

  it('closes every active alert of a check that is not enabled, and raises none', async () => {
    await insertSource(db.pool, 'p3', { latestCreated: hoursAgo(30) });
    await check();
    const disabled = configWith({ ENABLED_CHECKS: 'automated-browser,client-backlog' });
    expect(await check(disabled)).toMatchObject({ opened: 0, closed: 1 });
    expect(await activeAlert(db.pool, 'p3', 'upload-overdue')).toBeUndefined();
    expect(await check(disabled)).toMatchObject({ opened: 0, closed: 0 });
  });
});

describe('automated-browser and client-backlog (through real uploads)', () => {
  let server: TestServer;
  const statusPoint = (source: string, created: Date, key: 'pending-points' | 'pending_points', pending: unknown) => {
    const [point] = samples(key === 'pending-points' ? 48 : 26);
    delete point['pending-points'];
    delete point.pending_points;
    point[key] = pending;
    point['passive-data-metadata']!.source = source;
    point['passive-data-metadata']!.timestamp = created.getTime() / 1000;
    point.date = created.getTime();
    return point;
  };

  beforeAll(async () => {
    server = await startTestServer({ CLIENT_BACKLOG_POINTS: '5000', AUTOMATED_RECENT_DAYS: '7' }, { db: await createTestDatabase() });
    await postGzip(server, [
      // automated-browser
      pointAt('bot', hoursAgo(1), { userAgent: HEADLESS }),
      pointAt('bot', hoursAgo(1.5)),
      pointAt('person', hoursAgo(1)),
      pointAt('old-bot', daysAgo(9), { userAgent: HEADLESS }),
      pointAt('old-bot', hoursAgo(1)),
      pointAt('selenium', hoursAgo(2), { userAgent: `${CHROME} Selenium` }),
      // client-backlog: only the newest status point counts
      statusPoint('backlog-new', hoursAgo(1), 'pending-points', 6000),
      statusPoint('backlog-old-key', hoursAgo(1), 'pending_points', '5000'),
      statusPoint('batch-size', hoursAgo(1), 'pending_points', 64),
      statusPoint('caught-up', hoursAgo(3), 'pending-points', 9000),
      statusPoint('caught-up', hoursAgo(1), 'pending-points', 12),
      statusPoint('garbled', hoursAgo(1), 'pending-points', 'lots'),
    ]);
    await server.process();
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    await runOk(server.db.pool, server.config, statusChecksJob);
  });
  afterAll(async () => {
    const db = server?.db;
    await server?.stop();
    await db?.drop();
  });

  it('warns about sources whose recent points came from an automated browser', async () => {
    const bot = await activeAlert(server.db.pool, 'bot', 'automated-browser');
    expect(bot).toMatchObject({ name: 'Automated browser', level: 'warning', details: { user_agents: [HEADLESS], signatures: ['Headless'] } });
    expect(bot!.details.message).toBe(`Data from the last 7 days came from an automated browser: "${HEADLESS}" (matched: Headless).`);
    expect((await activeAlert(server.db.pool, 'selenium', 'automated-browser'))?.details.signatures).toEqual(expect.arrayContaining([expect.stringMatching(/selenium/i)]));
    expect(await activeAlert(server.db.pool, 'person', 'automated-browser')).toBeUndefined();
    // seen 9 days ago only: outside AUTOMATED_RECENT_DAYS
    expect(await activeAlert(server.db.pool, 'old-bot', 'automated-browser')).toBeUndefined();
  });

  it('warns about a reported upload backlog of CLIENT_BACKLOG_POINTS or more, in either key', async () => {
    expect(await activeAlert(server.db.pool, 'backlog-new', 'client-backlog')).toMatchObject({
      name: 'Client upload backlog', level: 'warning', details: { message: 'The extension reports 6000 points waiting to be uploaded.', pending_points: 6000 },
    });
    expect((await activeAlert(server.db.pool, 'backlog-old-key', 'client-backlog'))?.details.message).toBe('The extension reports 5000 points waiting to be uploaded.');
    for (const source of ['batch-size', 'caught-up', 'garbled', 'person']) {
      expect(await activeAlert(server.db.pool, source, 'client-backlog'), source).toBeUndefined();
    }
  });

  it('closes the backlog alert once a newer status reports it cleared', async () => {
    await postGzip(server, [statusPoint('backlog-new', hoursAgo(0.5), 'pending-points', 40)]);
    await server.process();
    expect(await runOk(server.db.pool, server.config, statusChecksJob)).toMatchObject({ closed: 1, opened: 0 });
    expect(await activeAlert(server.db.pool, 'backlog-new', 'client-backlog')).toBeUndefined();
  });

  it('reads the newest status processing keeps per source: a newer one replaces it, an older one uploaded late does not', async () => {
    const latest = async (source: string) => (await server.db.pool.query<{ created: Date; pending: string }>(
      `SELECT created, properties ->> 'pending-points' AS pending FROM source_latest_status WHERE source = $1`, [source])).rows;
    const [newest] = await latest('caught-up');
    expect(newest.pending).toBe('12');
    // a status of 2 hours ago, between the two stored, arrives late: it is stored but not the newest
    await postGzip(server, [statusPoint('caught-up', hoursAgo(2), 'pending-points', 8000)]);
    await server.process();
    expect(Number((await server.db.pool.query(`SELECT count(*) FROM data_points WHERE source = 'caught-up'`)).rows[0].count)).toBe(3);
    expect(await latest('caught-up')).toEqual([newest]);
    await runOk(server.db.pool, server.config, statusChecksJob);
    expect(await activeAlert(server.db.pool, 'caught-up', 'client-backlog')).toBeUndefined();
    // a newer one replaces it, and the check follows
    const now = hoursAgo(0.25);
    await postGzip(server, [statusPoint('caught-up', now, 'pending-points', 7000)]);
    await server.process();
    expect(await latest('caught-up')).toEqual([{ created: now, pending: '7000' }]);
    await runOk(server.db.pool, server.config, statusChecksJob);
    expect((await activeAlert(server.db.pool, 'caught-up', 'client-backlog'))?.details).toMatchObject({ pending_points: 7000, reported: now.toISOString() });
  });
});
