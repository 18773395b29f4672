/**
 * The data-quality job on crafted traffic sent over HTTP and processed for real: each kind of bad
 * traffic raises exactly its flag, with evidence, an ordinary participant and a donation of years-old
 * points raise none, a second run
 * reads nothing again, and a later upload adds to the evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataQualityJob, updateFlags } from '../../src/data-quality/data-quality.job.ts';
import { withTransaction } from '../../src/db/database.ts';
import { insertDonationBundles } from '../../src/donations/donation-bundle.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import type { Point } from '../helpers/samples.ts';
import { CHROME, daysAgo, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const FIREFOX = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';
let server: TestServer;
const run = () => runOk(server.db.pool, server.config, dataQualityJob);
const now = Date.now();

interface FlagRow {
  source: string;
  kind: string;
  evidence_count: number;
  first_seen: Date;
  last_seen: Date;
  examples: Record<string, unknown>[];
  raised: boolean;
}

async function flags(): Promise<FlagRow[]> {
  const { rows } = await server.db.pool.query<FlagRow>(
    `SELECT source, kind, evidence_count::int, first_seen, last_seen, examples, raised_at IS NOT NULL AND cleared_at IS NULL AS raised
     FROM data_quality_flags ORDER BY source, kind`,
  );
  return rows;
}

async function raisedBySource(): Promise<Record<string, string[]>> {
  const bySource: Record<string, string[]> = {};
  for (const flag of await flags()) if (flag.raised) (bySource[flag.source] ??= []).push(flag.kind);
  return bySource;
}

const flagOf = async (source: string, kind: string) => (await flags()).find((f) => f.source === source && f.kind === kind)!;

/** Points of an ordinary day: a visit every 20 minutes over the last 6 hours. */
const ordinaryDay = (source: string) => Array.from({ length: 18 }, (_, i) => pointAt(source, hoursAgo(6 - i / 3, now)));

function withZone(point: Point, zone: string): Point {
  point['passive-data-metadata']!.timezone = zone;
  return point;
}

beforeAll(async () => {
  server = await startTestServer({ DATA_QUALITY_UA_PATTERNS: '*LabRunner/*' });
  await postGzip(server, ordinaryDay('p-ordinary'));
  await postGzip(server, ordinaryDay('dev-01'));
  await postGzip(server, [...ordinaryDay('p-headless').slice(0, 4), ...Array.from({ length: 6 }, (_, i) => pointAt('p-headless', hoursAgo(1 + i / 10, now), { userAgent: HEADLESS }))]);
  await postGzip(server, Array.from({ length: 12 }, (_, i) => pointAt('p-clock', daysAgo(3 * 365 + i / 24, now))));
  await postGzip(server, [pointAt('p-future', daysAgo(-2, now)), ...ordinaryDay('p-future').slice(0, 3)]);
  await postGzip(server, [pointAt('p-team', hoursAgo(2, now), { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) LabRunner/2.1' })]);
  // two browsers taking turns every two minutes: one identifier shared by two people
  await postGzip(server, Array.from({ length: 12 }, (_, i) => pointAt('p-shared', hoursAgo(3 - i / 30, now), { userAgent: i % 2 ? FIREFOX : CHROME })));
  await postGzip(server, Array.from({ length: 12 }, (_, i) => withZone(pointAt('p-zones', hoursAgo(3 - i / 30, now)), i % 2 ? 'Europe/Berlin' : 'America/New_York')));
  // 10,000 points created within one minute
  const burstStart = Math.floor(hoursAgo(2, now).getTime() / 60_000) * 60_000;
  for (let part = 0; part < 10; part += 1) {
    await postGzip(server, Array.from({ length: 1000 }, (_, i) => pointAt('p-rate', new Date(burstStart + (part * 1000 + i) * 5))));
  }
  // a participant's donated order history: years old by nature, no clock skew
  await withTransaction(server.db.pool, (client) => insertDonationBundles(client, 1, 'p-donor', Array.from({ length: 4 }, (_, i) => ({
    generatorId: 'pdk-external-amazon-item', created: daysAgo(3 * 365 + i, now), properties: { asin: `B00000000${i}`, title: `item ${i}` },
  }))));
  // a client stuck re-sending one bundle: 500 times, the first one processed before the others
  const stuck = ordinaryDay('p-resend').slice(0, 5);
  await postGzip(server, stuck);
  await server.process();
  for (let i = 0; i < 499; i += 1) await postGzip(server, stuck);
  await server.process();
}, 300_000);
afterAll(() => server?.stop());

describe('data-quality flags', () => {
  it('raises exactly the right flag for each kind of crafted traffic, and none for an ordinary participant', async () => {
    await run();
    expect(await raisedBySource()).toEqual({
      'dev-01': ['test-identifier'],
      'p-clock': ['clock-skew'],
      'p-future': ['clock-skew'],
      'p-headless': ['automated-browser'],
      'p-rate': ['impossible-rate'],
      'p-resend': ['duplicate-storm'],
      'p-shared': ['interleaved'],
      'p-team': ['automated-browser'],
      'p-zones': ['interleaved'],
    });
    expect((await flags()).filter((f) => f.source === 'p-ordinary' || f.source === 'p-donor')).toEqual([]);
    expect(Number((await server.db.pool.query(`SELECT count(*) FROM data_points WHERE source = 'p-donor'`)).rows[0].count)).toBe(4);
  });

  it('keeps the evidence: counts, first and last time, examples', async () => {
    const headless = await flagOf('p-headless', 'automated-browser');
    expect(headless.evidence_count).toBe(6);
    expect(headless.first_seen).toEqual(hoursAgo(1.5, now));
    expect(headless.last_seen).toEqual(hoursAgo(1, now));
    expect(headless.examples).toEqual([{ userAgent: HEADLESS, points: 6, signatures: ['Headless'] }]);

    const clock = await flagOf('p-clock', 'clock-skew');
    expect(clock.evidence_count).toBe(12);
    expect(clock.first_seen).toEqual(daysAgo(3 * 365 + 11 / 24, now));
    expect(clock.examples).toHaveLength(5);
    expect(clock.examples[0]).toMatchObject({ type: 'webmunk-history-visit' });

    const future = await flagOf('p-future', 'clock-skew');
    expect(future.evidence_count).toBe(1);
    expect(future.first_seen).toEqual(daysAgo(-2, now));
    expect((await flagOf('p-team', 'automated-browser')).examples).toEqual([
      { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) LabRunner/2.1', points: 1, signatures: ['DATA_QUALITY_UA_PATTERNS'] },
    ]);

    const resend = await flagOf('p-resend', 'duplicate-storm');
    expect(resend.evidence_count).toBe(499);
    expect(resend.examples).toHaveLength(5);
    expect(resend.examples[0]).toMatchObject({ points: 5 });

    const rate = await flagOf('p-rate', 'impossible-rate');
    expect(rate.evidence_count).toBe(1);
    expect(rate.examples).toEqual([expect.objectContaining({ type: 'webmunk-history-visit', points: 10_000, limit: 1000 })]);

    const shared = await flagOf('p-shared', 'interleaved');
    expect(shared.evidence_count).toBe(11);
    expect(shared.examples[0]).toMatchObject({ what: 'user agent', from: CHROME, to: FIREFOX });
    const zones = await flagOf('p-zones', 'interleaved');
    expect(zones.evidence_count).toBe(11);
    expect(zones.examples[0]).toMatchObject({ what: 'time zone', from: 'America/New_York', to: 'Europe/Berlin' });

    const dev = await flagOf('dev-01', 'test-identifier');
    expect(dev.evidence_count).toBe(18);
    expect(dev.examples).toEqual([{ identifier: 'dev-01', pattern: 'dev-*' }]);
  });

  it('reads only what is new: a second run adds nothing, a later upload adds to the evidence', async () => {
    const before = await flags();
    const again = await run();
    expect(again).toMatchObject({ pointRanges: 0, bundles: 0 });
    expect(await flags()).toEqual(before);

    await postGzip(server, [pointAt('p-headless', hoursAgo(0.5, now), { userAgent: HEADLESS }), pointAt('p-ordinary', hoursAgo(0.5, now))]);
    await server.process();
    const later = await run();
    expect(later).toMatchObject({ pointRanges: 1, bundles: 1 });
    const headless = await flagOf('p-headless', 'automated-browser');
    expect(headless.evidence_count).toBe(7);
    expect(headless.last_seen).toEqual(hoursAgo(0.5, now));
    expect((await flags()).filter((f) => f.source === 'p-ordinary')).toEqual([]);
  });

  it("clears a test-identifier flag when the team's patterns no longer match it, and raises it again when they do", async () => {
    await updateFlags(server.db.pool, { ...server.config, dataQualityTestIds: ['qa-*'] });
    expect((await raisedBySource())['dev-01']).toBeUndefined();
    expect((await flagOf('dev-01', 'test-identifier')).evidence_count).toBe(18);
    await run();
    expect((await raisedBySource())['dev-01']).toEqual(['test-identifier']);
  });
});
