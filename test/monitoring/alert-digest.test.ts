/**
 * alert-digest and sendMail against a real SMTP server on 127.0.0.1: the original's subject and
 * body layout, times in TIME_ZONE, the recipients, and a failed run when mail cannot be sent.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { createLogger } from '../../src/log.ts';
import { sendMail } from '../../src/mail/mailer.ts';
import { alertDigestJob } from '../../src/monitoring/alert-digest.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { formatDjangoDateTime } from '../../src/monitoring/alert-digest.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertSource, runOk } from './support.ts';

interface Received { from: string; to: string[]; subject: string; body: string }

let db: TestDatabase;
let smtp: SMTPServer;
let port: number;
let refuse = false;
const received: Received[] = [];

/** The decoded text body and the subject of a raw single-part message. */
function parse(raw: string): { subject: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(headers)?.[1] ?? '';
  let body = raw.slice(split + 4);
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  if (encoding === 'quoted-printable') {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
  } else if (encoding === 'base64') {
    body = Buffer.from(body, 'base64').toString('utf8');
  }
  return { subject: header('Subject'), body: body.replace(/\r\n/g, '\n') };
}

const configWith = (env: Record<string, string> = {}) => loadConfig({
  DATABASE_URL: db.url,
  LOG_LEVEL: 'silent',
  TIME_ZONE: 'America/Chicago',
  SMTP_URL: `smtp://127.0.0.1:${port}`,
  EMAIL_FROM: 'dcs@study.example.org',
  ALERT_DIGEST_RECIPIENTS: 'ra@study.example.org, pi@study.example.org',
  ...env,
});

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refuse) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...parse(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  port = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(resolve));
  await db?.drop();
});
beforeEach(async () => {
  received.length = 0;
  refuse = false;
  await db.pool.query('TRUNCATE alerts, data_sources, user_agent_sources CASCADE');
});

async function insertAlert(source: string, checkId: string, name: string, message: string, created: string, active = true) {
  await db.pool.query(
    `INSERT INTO alerts (source, check_id, name, level, details, created, updated, active) VALUES ($1, $2, $3, 'warning', $4, $5, $5, $6)`,
    [source, checkId, name, JSON.stringify({ message }), created, active],
  );
}

describe('alert-digest', () => {
  it('e-mails the active alerts per source, laid out as the original, times in TIME_ZONE', async () => {
    for (const source of ['p-b', 'p-a', 'p-c']) await insertSource(db.pool, source);
    await insertAlert('p-a', 'client-backlog', 'Client upload backlog', 'The extension reports 6000 points waiting to be uploaded.', '2026-03-01T18:00:00Z');
    await insertAlert('p-a', 'upload-overdue', 'Data upload is overdue', 'Latest data was uploaded 5.00 hours ago.', '2026-01-05T21:04:00Z');
    await insertAlert('p-b', 'upload-overdue', 'Data never uploaded', 'No data has been uploaded from this user.', '2026-09-14T05:00:00Z');
    await insertAlert('p-c', 'upload-overdue', 'Data upload is overdue', 'closed, not listed', '2026-01-01T00:00:00Z', false);

    expect(await runOk(db.pool, configWith(), alertDigestJob)).toEqual({ sources: 2, alerts: 3, recipients: 2, serverAlerts: 0 });
    expect(received).toHaveLength(1);
    const [mail] = received;
    expect(mail.from).toBe('dcs@study.example.org');
    expect(mail.to).toEqual(['ra@study.example.org', 'pi@study.example.org']);
    expect(mail.subject).toBe('Alert Digest: 2 Affected Users');
    expect(mail.body.trim().split('\n')).toEqual([
      'The following alerts were active as of this e-mail:',
      '',
      '"p-a": 2 Alert(s)',
      ' - Data upload is overdue: Latest data was uploaded 5.00 hours ago. (Jan. 5, 2026, 3:04 p.m.)',
      ' - Client upload backlog: The extension reports 6000 points waiting to be uploaded. (March 1, 2026, noon)',
      '',
      '"p-b": 1 Alert(s)',
      ' - Data never uploaded: No data has been uploaded from this user. (Sept. 14, 2026, midnight)',
    ]);
  });

  it('quotes, cuts and escapes what uploaders chose, so they cannot write lines into the e-mail', async () => {
    const source = `P9: 0 Alert(s)\n\nACTION NEEDED: re-enter your password at https://evil.example\n${'x'.repeat(200)}`;
    const userAgent = 'Mozilla/5.0 HeadlessChrome/120.0\r\n - Data upload is fine: "all good" \u202Eevil';
    await insertSource(db.pool, source);
    await db.pool.query(`INSERT INTO user_agent_sources (user_agent, source, points, first_seen, last_seen) VALUES ($1, $2, 5, now(), now())`, [userAgent, source]);
    await runOk(db.pool, configWith(), statusChecksJob);
    expect(await runOk(db.pool, configWith(), alertDigestJob)).toMatchObject({ sources: 1, alerts: 2 });
    const lines = received[0].body.trim().split('\n');
    // The intro, a blank line, one line for the source and one per alert: nothing else.
    expect(lines).toHaveLength(5);
    expect(lines[2]).toBe(`"P9: 0 Alert(s)\\n\\nACTION NEEDED: re-enter your password at https://evil.example\\n${'x'.repeat(100 - 78)}…": 2 Alert(s)`);
    const automated = lines.find((line) => line.startsWith(' - Automated browser: '))!;
    expect(automated).toContain('"Mozilla/5.0 HeadlessChrome/120.0\\r\\n - Data upload is fine: \\"all good\\" \\u{202E}evil" (matched: ');
    expect(lines.filter((line) => line.startsWith(' - '))).toHaveLength(2);
  });

  it('is sent with no alerts too, as the original', async () => {
    expect(await runOk(db.pool, configWith(), alertDigestJob)).toMatchObject({ sources: 0, alerts: 0 });
    expect(received.map((m) => [m.subject, m.body.trim()])).toEqual([['Alert Digest: 0 Affected Users', 'The following alerts were active as of this e-mail:']]);
  });

  it('adds the backup alert below the participants\' alerts: a failed backup run is never silent', async () => {
    await db.pool.query(`INSERT INTO backup_runs (name, destinations, state, finished_at, error) VALUES ('r1', '{/mnt/backups}', 'failed', now(), 'EACCES: permission denied')`);
    try {
      const config = configWith({ BACKUP_KEY: Buffer.alloc(32, 7).toString('base64'), BACKUP_DIR: '/mnt/backups' });
      expect(await runOk(db.pool, config, alertDigestJob)).toMatchObject({ alerts: 0, serverAlerts: 1 });
      expect(received[0].body.trim().split('\n').slice(-2)).toEqual([
        'The server needs attention:',
        ' - Backups: The last backup run failed: EACCES: permission denied. No backup has succeeded yet. Runs are retried.',
      ]);
    } finally {
      await db.pool.query('DELETE FROM backup_runs');
    }
  });

  it('is scheduled only with recipients', () => {
    expect(alertDigestJob.enabled!(configWith())).toBe(true);
    expect(alertDigestJob.enabled!(configWith({ ALERT_DIGEST_RECIPIENTS: '' }))).toBe(false);
    expect('dailyAt' in alertDigestJob.schedule && alertDigestJob.schedule.dailyAt(configWith({ ALERT_DIGEST_TIME: '07:30' }))).toBe('07:30');
  });

  it('fails the run when SMTP_URL is not set or the mail server refuses', async () => {
    const log = createLogger('silent');
    const unset = await runJob({ pool: db.pool, config: configWith({ SMTP_URL: '' }), log }, alertDigestJob, 'cli');
    expect(unset).toMatchObject({ outcome: 'failed', error: { message: expect.stringContaining('SMTP_URL is not set') } });
    refuse = true;
    const refused = await runJob({ pool: db.pool, config: configWith(), log }, alertDigestJob, 'cli');
    expect(refused).toMatchObject({ outcome: 'failed', error: { message: expect.stringContaining('Mailbox unavailable') } });
    const { rows } = await db.pool.query(`SELECT outcome, error FROM job_runs WHERE job = 'alert-digest' ORDER BY id DESC LIMIT 2`);
    expect(rows.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(received).toHaveLength(0);
  });

  it('fails when the mail server cannot be reached', async () => {
    const closed = new SMTPServer({ authOptional: true, logger: false });
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(resolve));
    await expect(sendMail(configWith({ SMTP_URL: `smtp://127.0.0.1:${closedPort}` }), { to: ['x@example.org'], subject: 's', text: 't' })).rejects.toThrow(/ECONNREFUSED|connect/i);
  });
});

describe('formatDjangoDateTime', () => {
  it('writes times as Django does by default (N j, Y, P)', () => {
    const tz = 'UTC';
    expect(formatDjangoDateTime(new Date('2026-06-02T09:00:00Z'), tz)).toBe('June 2, 2026, 9 a.m.');
    expect(formatDjangoDateTime(new Date('2026-07-20T12:30:00Z'), tz)).toBe('July 20, 2026, 12:30 p.m.');
    expect(formatDjangoDateTime(new Date('2026-12-31T23:59:00Z'), tz)).toBe('Dec. 31, 2026, 11:59 p.m.');
    expect(formatDjangoDateTime(new Date('2026-05-01T00:05:00Z'), tz)).toBe('May 1, 2026, 12:05 a.m.');
    expect(formatDjangoDateTime(new Date('2026-05-01T00:05:00Z'), 'Asia/Tokyo')).toBe('May 1, 2026, 9:05 a.m.');
  });
});
