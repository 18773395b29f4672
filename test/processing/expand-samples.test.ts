/**
 * Expansion of the 49 real-format sample points (webmunk-clients.md §8) into data points, checked
 * column by column against what the fixture itself says (pdk-server.md §1.2, §6.2;
 * webmunk-clients.md §1.5, §2; webmunk-server.md §3).
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES } from '../../src/processing/data-types.ts';
import { SAMPLES, samples, type Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, createJson, postGzip, tally } from './support.ts';

/** Secondary identifiers the references name (webmunk-clients.md §1.5, webmunk-server.md §3.2). */
const REFERENCE_SECONDARY: Record<string, string> = {
  'webmunk-extension-matched-rule': 'rule',
  'webmunk-extension-class-added': 'class-name',
  'webmunk-extension-element-show': 'element-class',
  'webmunk-extension-element-hide': 'element-class',
  'webmunk-extension-element-click': 'element-class',
  'webmunk-extension-action': 'action',
  'webmunk-amazon-order': 'order-number',
  'pdk-app-event': 'event_name',
};

const meta = (point: Point) => point['passive-data-metadata'] as Record<string, unknown>;

/** PDK: the text after the first ':' of the generator, trimmed; the whole string without a colon. */
function userAgentOf(generator: string): string {
  const colon = generator.indexOf(':');
  return (colon >= 0 ? generator.slice(colon + 1) : generator).trim();
}

function expectedSecondary(point: Point): string | null {
  const id = meta(point)['generator-id'] as string;
  const rule = DATA_TYPES.find((t) => t.identifier === id)?.secondary;
  if (REFERENCE_SECONDARY[id]) expect(rule, id).toEqual({ kind: 'key', path: [REFERENCE_SECONDARY[id]] });
  if (!rule) return null;
  expect(rule.kind, `no sample uses ${rule.kind}`).toBe('key');
  const value = rule.path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], point);
  return value === undefined || value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
}

interface PointRow {
  id: number;
  source: string;
  generator_id: string;
  generator: string;
  secondary_identifier: string | null;
  user_agent: string | null;
  epoch: number;
  created_from: string;
  recorded: Date;
  bundle_id: number;
  properties: Point;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

async function pointRows(where = 'TRUE', params: unknown[] = []): Promise<PointRow[]> {
  const { rows } = await server.db.pool.query<PointRow>(
    `SELECT id::int, source, generator_id, generator, secondary_identifier, user_agent,
            extract(epoch FROM created)::float8 AS epoch, created_from, recorded, bundle_id::int, properties
     FROM data_points WHERE ${where} ORDER BY id`,
    params,
  );
  return rows;
}

/** The stored form of a sent point: the point itself plus encrypted_transmission. */
function stored(point: Point, encrypted = false): Point {
  const copy = structuredClone(point);
  meta(copy).encrypted_transmission = encrypted;
  return copy;
}

describe('the 49 sample points', () => {
  const first = SAMPLES.slice(0, 25);
  const second = SAMPLES.slice(25);
  let ids: number[];
  let rows: PointRow[];

  beforeAll(async () => {
    ids = [await postGzip(server, first), await createJson(server, JSON.stringify(second))];
    await server.process();
    rows = await pointRows();
  });

  it('keeps every sample that has a source and a generator; the fixture has none without', () => {
    const lacking = (key: string) => SAMPLES.flatMap((p, i) => (meta(p) && key in meta(p) ? [] : [i]));
    // The brief warned G2a points might lack `source`; the fixture shows all 49 carry both keys.
    expect(lacking('source')).toEqual([]);
    expect(lacking('generator')).toEqual([]);
    expect(SAMPLES).toHaveLength(49);
    expect(rows).toHaveLength(49);
  });

  it('marks both bundles processed with their counts and sources', async () => {
    for (const [id, sent] of [[ids[0], first], [ids[1], second]] as const) {
      const row = await bundle(server, id);
      expect(row.status).toBe('processed');
      expect(row.attempts).toBe(0);
      expect(row.error).toBeNull();
      expect(row.point_count).toBe(sent.length);
      expect(row.points_added).toBe(sent.length);
      expect(row.points_rejected).toBe(0);
      expect(row.rejections).toBeNull();
      expect([...row.sources!].sort()).toEqual(Object.keys(tally(sent)).sort());
    }
  });

  it('stores each sample once, verbatim, with the columns derived from its metadata', async () => {
    const received = new Map<number, Date>();
    for (const id of ids) received.set(id, (await bundle(server, id)).received_at);
    const matched = new Set<number>();
    SAMPLES.forEach((point, i) => {
      const expected = stored(point);
      const found = rows.filter((r) => isDeepStrictEqual(r.properties, expected));
      expect(found, `sample ${i}`).toHaveLength(1);
      const row = found[0];
      matched.add(row.id);
      const m = meta(point);
      expect(row.source, `sample ${i}`).toBe((m.source as string) || 'missing-source');
      expect(row.generator_id, `sample ${i}`).toBe(m['generator-id'] ?? 'unknown-generator');
      expect(row.generator, `sample ${i}`).toBe(m.generator);
      expect(row.user_agent, `sample ${i}`).toBe(userAgentOf(m.generator as string));
      expect(row.secondary_identifier, `sample ${i}`).toBe(expectedSecondary(point));
      expect(row.created_from, `sample ${i}`).toBe('timestamp');
      expect(row.epoch, `sample ${i}`).toBeCloseTo(m.timestamp as number, 5);
      expect(row.bundle_id, `sample ${i}`).toBe(i < first.length ? ids[0] : ids[1]);
      expect(row.recorded.getTime(), `sample ${i}`).toBeGreaterThanOrEqual(received.get(row.bundle_id)!.getTime());
    });
    expect(matched.size).toBe(49);
  });

  it('derives secondary identifiers and user agents that actually vary', () => {
    // Guards the per-sample checks against a vacuous pass (everything NULL or equal).
    const secondaries = rows.map((r) => r.secondary_identifier).filter((s) => s !== null);
    expect(new Set(secondaries).size).toBeGreaterThan(8);
    // Sample 6 (log-elements) has an `action` key but no rule: no secondary identifier.
    expect(SAMPLES[6].action).toBe('load');
    expect(rows.find((r) => r.generator_id === 'webmunk-extension-log-elements')!.secondary_identifier).toBeNull();
    // G0 (sample 18): no colon in the generator, so the user agent is the whole string.
    const g0 = meta(SAMPLES[18]).generator as string;
    expect(g0).not.toContain(':');
    expect(rows.find((r) => r.generator_id === 'pdk-web-visit')!.user_agent).toBe(g0);
    expect(rows.find((r) => r.generator_id === 'pdk-app-event' && r.secondary_identifier === SAMPLES[41].event_name)).toBeDefined();
  });

  it('registers every source with its point count and latest point', async () => {
    const { rows: sources } = await server.db.pool.query(
      `SELECT source, point_count::int, extract(epoch FROM latest_point_created)::float8 AS latest, latest_user_agent FROM data_sources`,
    );
    const expected = tally(SAMPLES);
    expect(Object.fromEntries(sources.map((s) => [s.source, s.point_count]))).toEqual(expected);
    for (const s of sources) {
      const own = SAMPLES.filter((p) => meta(p).source === s.source);
      const latest = own.reduce((a, b) => ((meta(b).timestamp as number) > (meta(a).timestamp as number) ? b : a));
      expect(s.latest, s.source).toBeCloseTo(meta(latest).timestamp as number, 5);
      expect(s.latest_user_agent, s.source).toBe(userAgentOf(meta(latest).generator as string));
    }
  });
});

describe('where `created` comes from', () => {
  it('falls back from metadata.timestamp to date (ms), to an ISO date text, to the receipt time', async () => {
    const [noTimestamp, isoDate, neither, textTimestamp, msAsSeconds] = samples(0, 25, 7, 19, 21);
    withSourceOf(noTimestamp, 'created-date');
    delete meta(noTimestamp).timestamp;
    withSourceOf(isoDate, 'created-date-text');
    meta(isoDate).timestamp = null; // the G2a quirk: NaN seconds serialised as null
    expect(typeof isoDate.date).toBe('string');
    withSourceOf(neither, 'created-received');
    delete meta(neither).timestamp;
    delete neither.date;
    withSourceOf(textTimestamp, 'created-text-seconds');
    meta(textTimestamp).timestamp = String(meta(textTimestamp).timestamp);
    withSourceOf(msAsSeconds, 'created-ms-as-seconds');
    meta(msAsSeconds).timestamp = msAsSeconds.date; // milliseconds where seconds belong: implausible

    const id = await postGzip(server, [noTimestamp, isoDate, neither, textTimestamp, msAsSeconds]);
    await server.process();
    const receivedAt = (await bundle(server, id)).received_at;
    const rows = await pointRows('bundle_id = $1', [id]);
    const by = (source: string) => rows.find((r) => r.source === source)!;

    expect(by('created-date').created_from).toBe('date');
    expect(by('created-date').epoch).toBeCloseTo((noTimestamp.date as number) / 1000, 5);
    expect(by('created-date-text').created_from).toBe('date-text');
    expect(by('created-date-text').epoch).toBeCloseTo(Date.parse(isoDate.date as string) / 1000, 5);
    expect(by('created-received').created_from).toBe('received');
    expect(by('created-received').epoch).toBeCloseTo(receivedAt.getTime() / 1000, 2);
    expect(by('created-text-seconds').created_from).toBe('timestamp');
    expect(by('created-text-seconds').epoch).toBeCloseTo(Number(meta(textTimestamp).timestamp), 5);
    expect(by('created-ms-as-seconds').created_from).toBe('date');
    expect(by('created-ms-as-seconds').epoch).toBeCloseTo((msAsSeconds.date as number) / 1000, 5);
    for (const [source, point] of [['created-date-text', isoDate], ['created-received', neither]] as const) {
      expect(by(source).properties).toEqual(stored(point));
    }
  });
});

describe('defaults for incomplete metadata', () => {
  it('stores an empty source as missing-source and a missing generator-id as unknown-generator', async () => {
    const [emptySource, noId, unknownId] = samples(7, 17, 4);
    meta(emptySource).source = '';
    withSourceOf(noId, 'defaults-no-id');
    delete meta(noId)['generator-id'];
    withSourceOf(unknownId, 'defaults-unknown-id');
    meta(unknownId)['generator-id'] = 'some-future-generator';
    meta(unknownId).generator = 'some-future-generator: Future/1.0';

    const id = await postGzip(server, [emptySource, noId, unknownId]);
    await server.process();
    expect(await bundle(server, id)).toMatchObject({ status: 'processed', point_count: 3, points_added: 3, points_rejected: 0 });
    const rows = await pointRows('bundle_id = $1', [id]);
    const by = (source: string) => rows.find((r) => r.source === source)!;

    expect(by('missing-source').properties).toEqual(stored(emptySource));
    expect(by('missing-source').secondary_identifier).toBe(emptySource.action);
    expect(by('defaults-no-id').generator_id).toBe('unknown-generator');
    expect(by('defaults-no-id').secondary_identifier).toBeNull(); // `action` is there, but no rule applies
    expect(noId.action).toBeTypeOf('string');
    expect(by('defaults-unknown-id')).toMatchObject({
      generator_id: 'some-future-generator',
      generator: 'some-future-generator: Future/1.0',
      user_agent: 'Future/1.0',
      secondary_identifier: null,
      created_from: 'timestamp',
    });
    expect(unknownId['element-class']).toBeTypeOf('string'); // would be the secondary id under its old type
  });
});

function withSourceOf(point: Point, source: string): void {
  meta(point).source = source;
}
