/**
 * Points in data_points' DEFAULT partition are watched (issue 22, docs/partitions.md "Points in
 * DEFAULT"): a point dated year 2200, uploaded through the real HTTP API, lands in DEFAULT;
 * /metrics counts it (dcs_partition_default_rows), System health and the alert digest e-mail say
 * how many, of which source, dated when, and what to do; erasing the source clears the alert. A
 * point just past the premade months moves out when the job premakes its month, which clears it
 * too. A point dated year 52217 makes no partition.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { eraseSource } from '../../src/data-quality/erasure.ts';
import { listPartitions, monthStart } from '../../src/db/partitions.ts';
import { createLogger } from '../../src/log.ts';
import { alertDigestJob } from '../../src/monitoring/alert-digest.job.ts';
import { uploadPoints } from '../exports/support.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { pointAt, runOk } from './support.ts';

const server = useTestServer();
let smtp: SMTPServer;
let smtpPort: number;
const mails: string[] = [];
let login: Login;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  const staff = await createStaff(server.db.pool);
  login = await logIn(server.baseUrl, staff.username, staff.password);
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function gauge(): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const line = /^dcs_partition_default_rows\{table="data_points"\} (\d+)$/m.exec(text);
  expect(line, text).not.toBeNull();
  return Number(line![1]);
}

/** The Partitions panel of System health, as text. */
async function partitionsPanel(): Promise<string> {
  const page = await (await fetch(`${server.baseUrl}/data/system-health`, { headers: { cookie: login.cookie } })).text();
  const panel = /<section class="panel" id="partitions">[\s\S]*?<\/section>/.exec(page);
  expect(panel).not.toBeNull();
  return panel![0].replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/\s+/g, ' ');
}

/** Runs the alert digest to the SMTP server above; returns its counts and the mail's decoded body. */
async function digest(): Promise<{ serverAlerts: unknown; body: string }> {
  mails.length = 0;
  const config = { ...server.config, smtpUrl: `smtp://127.0.0.1:${smtpPort}`, emailFrom: 'dcs@study.example.org', alertDigestRecipients: ['ra@study.example.org'] };
  const counts = await runOk(server.db.pool, config, alertDigestJob);
  expect(mails).toHaveLength(1);
  const raw = mails[0];
  const split = raw.indexOf('\r\n\r\n');
  const quotedPrintable = /content-transfer-encoding:\s*quoted-printable/i.test(raw.slice(0, split));
  let body = raw.slice(split + 4);
  if (quotedPrintable) body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
  else if (/content-transfer-encoding:\s*base64/i.test(raw.slice(0, split))) body = Buffer.from(body, 'base64').toString('utf8');
  return { serverAlerts: counts.serverAlerts, body: body.replace(/\r\n/g, '\n') };
}

const where = async (source: string) =>
  (await server.db.pool.query(`SELECT tableoid::regclass::text AS part, created_from, created FROM data_points WHERE source = $1`, [source])).rows;
const partitionNames = async () => (await listPartitions(server.db.pool, 'data_points')).map((p) => p.name);
const ctx = () => ({ pool: server.db.pool, config: server.config, log: createLogger('silent') });

describe('points in the DEFAULT partition', () => {
  it('are counted on /metrics and raise the System health and digest alert, which erasing them clears; year 52217 makes no partition', async () => {
    expect(await gauge()).toBe(0);
    expect(await partitionsPanel()).toContain('No point waits in data_points_default');
    const partitionsBefore = await partitionNames();

    await uploadPoints(server, [
      pointAt('clock-2200', new Date('2200-01-15T08:00:00Z')),
      pointAt('clock-52217', new Date(Date.UTC(52217, 0, 1))),
      pointAt('clock-today', new Date()),
    ]);
    expect((await where('clock-2200')).map((r) => r.part)).toEqual(['data_points_default']);
    // Past year 5138 a time is not believed: the point is dated when it arrived, in this month.
    const far = await where('clock-52217');
    expect(far.map((r) => [r.part === 'data_points_default', r.created_from])).toEqual([[false, 'received']]);
    expect(Math.abs(far[0].created.getTime() - Date.now())).toBeLessThan(3_600_000);
    // The job premakes by the clock: nothing for 2200, nothing for 52217.
    expect(await maintainPartitions(ctx(), new Date())).toMatchObject({ premade: 0, defaultRows: 1 });
    expect(await partitionNames()).toEqual(partitionsBefore);

    expect(await gauge()).toBe(1);
    const panel = await partitionsPanel();
    expect(panel).toContain('1 point in data_points_default (the DEFAULT partition): 1 point dated past the premade months (2200-01-15, UTC)');
    expect(panel).toContain('Source: "clock-2200" (1 point, 2200-01-15)');
    expect(panel).toContain('docs/partitions.md, "Points in DEFAULT"');
    expect(panel).toMatch(/clock-2200 1 2200-01-15 2200-01-15/); // the table, the source linked to its page
    const mail = await digest();
    expect(mail.serverAlerts).toBe(1);
    expect(mail.body).toMatch(/The server needs attention:\n - Points in the DEFAULT partition: 1 point in data_points_default \(the DEFAULT partition\): 1 point dated past the premade months \(2200-01-15, UTC\)\. Source: "clock-2200" \(1 point, 2200-01-15\)\. A point dated past the premade months is a client clock far off/);

    await eraseSource(server.db.pool, 'clock-2200', 'test');
    expect(await gauge()).toBe(0);
    expect(await partitionsPanel()).toContain('No point waits in data_points_default');
    const after = await digest();
    expect(after.serverAlerts).toBe(0);
    expect(after.body).not.toContain('DEFAULT');
  });

  it('clear when the job premakes the month of the points waiting there', async () => {
    const premadeUntil = (await listPartitions(server.db.pool, 'data_points')).filter((p) => p.upper).at(-1)!.upper!;
    const justPast = new Date(premadeUntil.getTime() + 10 * 86_400_000);
    await uploadPoints(server, [pointAt('clock-ahead', justPast), pointAt('clock-ahead', new Date(justPast.getTime() + 3_600_000))]);
    expect((await where('clock-ahead')).map((r) => r.part)).toEqual(['data_points_default', 'data_points_default']);
    expect(await gauge()).toBe(2);
    expect(await partitionsPanel()).toContain(`2 points in data_points_default (the DEFAULT partition): 2 points dated past the premade months (${justPast.toISOString().slice(0, 10)}, UTC)`);

    // A month later by the clock, the job premakes that month and moves the points into it.
    const counts = await maintainPartitions(ctx(), monthStart(new Date(), 1));
    // premade: the month of data_points and the month of bundles
    expect(counts).toMatchObject({ premade: 2, movedFromDefault: 2, defaultRows: 0 });
    expect(new Set((await where('clock-ahead')).map((r) => r.part))).toEqual(new Set([`data_points_p${premadeUntil.getUTCFullYear()}_${String(premadeUntil.getUTCMonth() + 1).padStart(2, '0')}`]));
    expect(await gauge()).toBe(0);
    expect(await partitionsPanel()).toContain('No point waits in data_points_default');
    expect((await digest()).serverAlerts).toBe(0);
  });
});
