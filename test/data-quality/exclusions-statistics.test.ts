/**
 * Exclusion rules in the statistics (issue 21 §2): after real uploads and processing, a rule
 * changes a source's window, frequency and 14-day strip (the home page), its per-type table (the
 * source page), fetch-metadata.json's counts and the export page's per-type counts at the
 * statistics job's next run, with no new point arriving; removing the rule restores every one of
 * them. A rule limited in time takes out the days in TIME_ZONE it covers whole. The home page
 * marks a source a rule takes out whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSourceStatistics } from '../../src/api/source-metadata.repository.ts';
import { listTypeStatistics } from '../../src/dashboard/source-detail.repository.ts';
import { addRule, setRuleEnabled, type RuleFields } from '../../src/data-quality/exclusion-rules.repository.ts';
import { exportableTypes } from '../../src/exports/export-catalog.repository.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaff, logIn } from '../helpers/staff.ts';
import { CHROME, daysAgo, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const TZ = 'America/New_York';
const VISIT = 'webmunk-history-visit';
const SPIDER = 'webmunk-spider-result';
let server: TestServer;
const now = Date.now();
const threeDaysAgo = daysAgo(3, now);

async function statistics(source: string) {
  const pool = server.db.pool;
  const { rows: [row] } = await pool.query('SELECT window_points::int, frequency_hz, daily_points FROM data_sources WHERE source = $1', [source]);
  const types = await listTypeStatistics(pool, source, TZ);
  const api = await findSourceStatistics(pool, source, server.config.metadataWindowDays, TZ);
  const catalog = await exportableTypes(pool, TZ);
  return {
    window: row.window_points as number,
    frequency: row.frequency_hz as number | null,
    strip: row.daily_points as number[],
    types: Object.fromEntries(types.map((t) => [t.generatorId, t.points])),
    api: { window: api?.windowPoints, types: Object.fromEntries((api?.generators ?? []).map((g) => [g.generatorId, g.points])) },
    catalog: Object.fromEntries(catalog.filter((t) => [VISIT, SPIDER].includes(t.identifier)).map((t) => [t.identifier, t.points])),
  };
}

/** Makes `fields` a rule, runs the statistics job, returns what `read` reads, then removes the rule and runs the job again. */
async function withRule<T>(fields: Omit<RuleFields, 'reason'>, read: () => Promise<T>): Promise<T> {
  const id = await addRule(server.db.pool, { ...fields, reason: 'test' }, 'ana');
  await runOk(server.db.pool, server.config, sourceStatisticsJob);
  const seen = await read();
  await setRuleEnabled(server.db.pool, id, false, 'ana');
  await runOk(server.db.pool, server.config, sourceStatisticsJob);
  return seen;
}

/** Midnight in TZ starting the day of `instant`, and the next one. */
async function dayInZone(instant: Date): Promise<[Date, Date]> {
  const { rows: [row] } = await server.db.pool.query(
    `SELECT (($1::timestamptz AT TIME ZONE $2)::date)::timestamp AT TIME ZONE $2 AS start,
            (($1::timestamptz AT TIME ZONE $2)::date + 1)::timestamp AT TIME ZONE $2 AS end`,
    [instant, TZ],
  );
  return [row.start, row.end];
}

beforeAll(async () => {
  server = await startTestServer({ TIME_ZONE: TZ });
  await postGzip(server, [
    pointAt('sx-1', hoursAgo(1, now)),
    pointAt('sx-1', hoursAgo(2, now)),
    pointAt('sx-1', threeDaysAgo),
    pointAt('sx-1', hoursAgo(1.5, now), { generatorId: SPIDER }),
    pointAt('sx-1', threeDaysAgo, { generatorId: SPIDER }),
    pointAt('sx-2', hoursAgo(1, now), { userAgent: CHROME.replace('Windows NT 10.0', 'Macintosh') }),
    pointAt('sx-2', hoursAgo(3, now)),
  ]);
  await server.process();
  await runOk(server.db.pool, server.config, sourceStatisticsJob);
});
afterAll(async () => {
  await server?.stop();
});

describe('exclusion rules in the statistics', () => {
  let before: Awaited<ReturnType<typeof statistics>>;

  it('counts every point without rules', async () => {
    before = await statistics('sx-1');
    expect(before).toMatchObject({ window: 5, types: { [VISIT]: 3, [SPIDER]: 2 }, api: { window: 5, types: { [VISIT]: 3, [SPIDER]: 2 } }, catalog: { [VISIT]: 5, [SPIDER]: 2 } });
    expect(before.strip.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('leaves out a type a rule excludes for a source, everywhere statistics are read, and restores it when the rule goes', async () => {
    const ruled = await withRule({ source: 'sx-1', generatorId: SPIDER }, () => statistics('sx-1'));
    expect(ruled).toMatchObject({ window: 3, types: { [VISIT]: 3 }, api: { window: 3, types: { [VISIT]: 3 } }, catalog: { [VISIT]: 5 } });
    expect(ruled.types[SPIDER]).toBeUndefined();
    expect(ruled.catalog[SPIDER]).toBeUndefined();
    expect(ruled.api.types[SPIDER]).toBeUndefined();
    expect(ruled.strip.reduce((a, b) => a + b, 0)).toBe(3);
    expect(ruled.frequency).not.toBe(before.frequency);
    expect(await statistics('sx-1')).toEqual(before);
  });

  it('leaves out the days a time-limited rule covers whole, and only those', async () => {
    const [start, end] = await dayInZone(threeDaysAgo);
    const whole = await withRule({ createdFrom: start, createdTo: end }, () => statistics('sx-1'));
    expect(whole).toMatchObject({ window: 3, types: { [VISIT]: 2, [SPIDER]: 1 } });
    // the strip loses that day's two points and nothing else
    expect(whole.strip.reduce((a, b) => a + b, 0)).toBe(3);
    expect(whole.strip.filter((n, i) => n !== before.strip[i])).toEqual([0]);
    // an hour short of the day: the day is counted (exports apply the window to the microsecond)
    const partial = await withRule({ createdFrom: start, createdTo: new Date(end.getTime() - 3_600_000) }, () => statistics('sx-1'));
    expect(partial).toEqual(before);
  });

  it('applies rules by group and user agent to the sources they name now', async () => {
    const { rows: [group] } = await server.db.pool.query(`INSERT INTO source_groups (name) VALUES ('pilot') RETURNING id`);
    await server.db.pool.query('UPDATE data_sources SET group_id = $1 WHERE source = $2', [group.id, 'sx-2']);
    const read = async () => ({ one: (await statistics('sx-1')).window, two: (await statistics('sx-2')).window });
    expect(await read()).toEqual({ one: 5, two: 2 });
    expect(await withRule({ groupName: 'pilot' }, read)).toEqual({ one: 5, two: 0 });
    expect(await withRule({ userAgentPattern: 'Macintosh' }, read)).toEqual({ one: 5, two: 0 });
    expect(await read()).toEqual({ one: 5, two: 2 });
  });

  it('marks on the home page a source a rule takes out whole, and only while the rule is in force', async () => {
    const staff = await createStaff(server.db.pool, 'bo');
    const { cookie } = await logIn(server.baseUrl, staff.username, staff.password);
    const flagsCell = async (source: string) => {
      const page = await (await fetch(`${server.baseUrl}/data/`, { headers: { cookie } })).text();
      const row = page.match(new RegExp(`<tr class="source[^"]*" data-source="${source}">[\\s\\S]*?</tr>`))?.[0] ?? '';
      return row.match(/<td class="flags">([\s\S]*?)<\/td>/)?.[1] ?? '';
    };
    expect(await flagsCell('sx-1')).not.toContain('excluded');
    const typed = await addRule(server.db.pool, { source: 'sx-1', generatorId: SPIDER, reason: 'one type' }, 'ana');
    expect(await flagsCell('sx-1')).not.toContain('excluded');
    const whole = await addRule(server.db.pool, { source: 'sx-1', reason: 'test install' }, 'ana');
    expect(await flagsCell('sx-1')).toContain('>excluded</a>');
    expect(await flagsCell('sx-2')).not.toContain('excluded');
    await setRuleEnabled(server.db.pool, whole, false, 'ana');
    await setRuleEnabled(server.db.pool, typed, false, 'ana');
    expect(await flagsCell('sx-1')).not.toContain('excluded');
  });
});
