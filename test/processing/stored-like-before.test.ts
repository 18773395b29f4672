/**
 * Processing now computes in Node what one SQL statement used to (`created`, secondary
 * identifier, properties with encrypted_transmission, and the point's identity: its content
 * digest since migration 0009) and COPYs the rows. Here every stored row is compared with what
 * that statement computed from the same point text, with its expressions (kept below as the
 * reference; the identity is PostgreSQL's dcs_point_digest, which gave stored points theirs): on
 * the 49 samples and on points built to take every exceptional path (numbers a double cannot
 * hold or written with an exponent, numbers and objects as secondary identifiers, ISO and missing
 * times, duplicate and escaped keys, non-ASCII text). Also: a point whose digest PostgreSQL
 * computed from its stored properties is recognised (stored once), the microsecond conversion is
 * exact, and a batch that loses a race for a point to another transaction is run again and stores
 * nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatch } from '../../src/processing/process-bundles.ts';
import { createLogger } from '../../src/log.ts';
import { integerArray, timestampFromMicros } from '../../src/processing/micros.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, createJson, postGzip } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const meta = (source: string, extra = '') => `"passive-data-metadata": {"source": "${source}", "generator": "g: UA/1.0", "generator-id": "GEN", "timestamp": 1790000000.25${extra}}`;
const point = (source: string, generatorId: string, body: string, extra = '') => `{${body}${body ? ', ' : ''}${meta(source, extra).replace('GEN', generatorId)}}`;

/** Point texts that leave Node's fast paths (see the file comment). */
const EDGE_POINTS = [
  point('edge-bigint', 'rex-page-event', '"visit": 12345678901234567890, "event_type": "load"'),
  point('edge-long-decimal', 'rex-page-event', '"x": 0.1000000000000000055511151231257827, "y": 1.0000000000000001'),
  point('edge-trailing-zeros', 'rex-page-event', '"x": 1.50, "y": 1E5, "z": -0.0, "w": 1e400'),
  point('edge-exponent', 'rex-page-event', '"x": 2.5e-3, "y": -0, "z": "\\u00e9\\/"'),
  point('edge-js-floats', 'rex-page-event', '"x": 0.30000000000000004, "y": 1769629874.1024308, "z": 9007199254740993'),
  point('edge-secondary-number', 'pdk-app-event', '"event_name": 1.50'),
  point('edge-secondary-object', 'pdk-app-event', '"event_name": {"b": [1, 2.0], "a": null}'),
  point('edge-secondary-bool', 'pdk-app-event', '"event_name": true'),
  point('edge-secondary-null', 'pdk-app-event', '"event_name": null'),
  point('edge-secondary-missing', 'pdk-app-event', '"other": 1'),
  point('edge-url', 'pdk-mitmproxy-visit', '"url": "https://user:pw@www.Example.com:8080/a?b#c"'),
  point('edge-url-number', 'pdk-mitmproxy-visit', '"url": 42'),
  point('edge-url-none', 'pdk-mitmproxy-visit', '"url": "not a url"'),
  point('edge-voices-true', 'pdk-voice-activity', '"voices_present": true'),
  point('edge-voices-text', 'pdk-voice-activity', '"voices_present": "false"'),
  point('edge-voices-number', 'pdk-voice-activity', '"voices_present": 1'),
  point('edge-voices-missing', 'pdk-voice-activity', ''),
  point('edge-unicode', 'rex-page-event', '"é": "中文 😀", "text": "tab\\tquote\\" backslash\\\\ \\u00e9\\ud83d\\ude00", "event_type": "\\u00e9"'),
  point('edge-dup-meta', 'rex-page-event', `"a": 1, "passive-data-metadata": {"source": "ignored", "generator": "x"}, "b": 2`),
  point('edge-flag-present', 'rex-page-event', '"a": 1', ', "encrypted_transmission": "yes"'),
  point('edge-nested', 'rex-page-event', '"deep": [[], {}, [{"k": [true, false, null]}], ""], "empty": {}'),
  '{"date": "2026-03-01T12:34:56.789123Z", "passive-data-metadata": {"source": "edge-iso", "generator": "g: UA", "generator-id": "rex-page-event", "timestamp": null}}',
  '{"date": "2026-03-01 12:34:56", "passive-data-metadata": {"source": "edge-iso-no-zone", "generator": "g: UA", "generator-id": "rex-page-event"}}',
  '{"date": "2026-02-30", "passive-data-metadata": {"source": "edge-bad-date", "generator": "g: UA", "generator-id": "rex-page-event"}}',
  '{"date": 1790000000123, "passive-data-metadata": {"source": "edge-ms", "generator": "g: UA", "generator-id": "rex-page-event"}}',
  '{"x": 1, "passive-data-metadata": {"source": "edge-no-time", "generator": "g: UA", "generator-id": "rex-page-event"}}',
  '{"passive-data-metadata": {"source": "edge-text-seconds", "generator": "g: UA", "generator-id": "rex-page-event", "timestamp": " 1790000000.5 "}}',
  '{"passive\\u002ddata-metadata": {"source": "edge-escaped-key", "generator": "g", "timestamp": 1790000001}}',
];

/**
 * The former expansion's expressions (expand.sql.ts before issue 9), applied to each sent point
 * text: its hash, its properties, its `created` and where from, its secondary identifier.
 */
const REFERENCE_SQL = `
WITH sent AS (
  SELECT u.i, u.t::jsonb AS body, u.bundle_id, b.received_at, b.encrypted
  FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS u (t, bundle_id, i) JOIN bundles b ON b.id = u.bundle_id
)
SELECT s.i, dcs_point_digest(s.body)::text AS content_digest,
  jsonb_set(s.body, '{passive-data-metadata,encrypted_transmission}', to_jsonb(s.encrypted)) AS properties,
  coalesce(dcs_epoch(s.body -> 'passive-data-metadata' -> 'timestamp', 1), dcs_epoch(s.body -> 'date', 1000),
           dcs_text_timestamp(CASE WHEN jsonb_typeof(s.body -> 'date') = 'string' THEN s.body ->> 'date' END), s.received_at)::text AS created,
  CASE WHEN dcs_epoch(s.body -> 'passive-data-metadata' -> 'timestamp', 1) IS NOT NULL THEN 'timestamp'
       WHEN dcs_epoch(s.body -> 'date', 1000) IS NOT NULL THEN 'date'
       WHEN dcs_text_timestamp(CASE WHEN jsonb_typeof(s.body -> 'date') = 'string' THEN s.body ->> 'date' END) IS NOT NULL THEN 'date-text'
       ELSE 'received' END AS created_from,
  CASE dt.secondary_kind
    WHEN 'key' THEN s.body #>> dt.secondary_path
    WHEN 'url-host' THEN substring(s.body #>> dt.secondary_path FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)')
    WHEN 'voices-present' THEN CASE s.body #>> dt.secondary_path WHEN 'true' THEN 'present' WHEN 'false' THEN 'not-present' ELSE 'unknown' END
  END AS secondary_identifier,
  s.bundle_id::int
FROM sent s
LEFT JOIN data_types dt ON dt.identifier = coalesce(s.body -> 'passive-data-metadata' ->> 'generator-id', 'unknown-generator')
ORDER BY s.i`;

interface Row { content_digest: string; properties: unknown; created: string; created_from: string; secondary_identifier: string | null; bundle_id: number }

async function storedRows(): Promise<Row[]> {
  const { rows } = await server.db.pool.query<Row>(
    `SELECT content_digest::text, properties, created::text, created_from, secondary_identifier, bundle_id::int FROM data_points`,
  );
  return rows;
}

describe('rows stored from Node, compared with the former SQL expansion', () => {
  it('stores every sample and every exceptional point exactly as the former statement did', async () => {
    const samplesBundle = await postGzip(server, SAMPLES);
    const edgeBundle = await createJson(server, `[${EDGE_POINTS.join(',\n')}]`);
    const result = await server.process();
    expect(result).toMatchObject({ bundles: 2, points: SAMPLES.length + EDGE_POINTS.length, added: SAMPLES.length + EDGE_POINTS.length, failed: 0 });
    expect((await bundle(server, edgeBundle)).status).toBe('processed');

    const texts = [...SAMPLES.map((p) => JSON.stringify(p)), ...EDGE_POINTS];
    const bundles = [...SAMPLES.map(() => samplesBundle), ...EDGE_POINTS.map(() => edgeBundle)];
    const { rows: expected } = await server.db.pool.query<Row & { i: string }>(REFERENCE_SQL, [texts, bundles]);
    const stored = await storedRows();
    expect(stored).toHaveLength(texts.length);
    const key = (r: Row) => JSON.stringify([r.bundle_id, r.content_digest, r.created, r.created_from, r.secondary_identifier]);
    const byProperties = new Map(stored.map((r) => [JSON.stringify(r.properties), r]));
    for (const want of expected) {
      const got = byProperties.get(JSON.stringify(want.properties));
      expect(got, texts[Number(want.i) - 1]).toBeDefined();
      expect(key(got!), texts[Number(want.i) - 1]).toBe(key(want));
    }
    // The edge points did take the exceptional paths they were written for.
    const by = (source: string) => stored.find((r) => (r.properties as { 'passive-data-metadata': { source: string } })['passive-data-metadata'].source === source)!;
    expect(by('edge-secondary-number').secondary_identifier).toBe('1.50');
    expect(by('edge-secondary-object').secondary_identifier).toBe('{"a": null, "b": [1, 2.0]}');
    expect(by('edge-url').secondary_identifier).toBe('www.Example.com');
    expect(by('edge-voices-text').secondary_identifier).toBe('not-present');
    expect(by('edge-iso').created_from).toBe('date-text');
    expect(by('edge-bad-date').created_from).toBe('received');
    const { rows: kept } = await server.db.pool.query(`SELECT properties ->> 'visit' AS visit, properties -> 'x' AS x FROM data_points WHERE source IN ('edge-bigint', 'edge-trailing-zeros') ORDER BY source`);
    expect(kept).toEqual([{ visit: '12345678901234567890', x: null }, { visit: null, x: 1.5 }]);
    const { rows: digits } = await server.db.pool.query(`SELECT (properties -> 'x')::text AS x FROM data_points WHERE source = 'edge-trailing-zeros'`);
    expect(digits[0].x).toBe('1.50'); // the digits as sent, as before
  });

  it('recognises a point whose digest PostgreSQL computed from its stored properties, and stores it once', async () => {
    const text = point('before-1', 'rex-page-event', '"event_type": "seen-before", "n": 0.1000000000000000055511151231257827');
    const fresh = point('before-2', 'rex-page-event', '"event_type": "seen-before", "n": 2');
    const id = await createJson(server, `[${text}]`);
    // Stored by SQL alone, its digest from its properties as migration 0009 gave every stored
    // point its digest; the bundle done.
    await server.db.pool.query(
      `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
       SELECT 'before-1', 'rex-page-event', 'g: UA/1.0', 'UA/1.0', dcs_epoch(j -> 'passive-data-metadata' -> 'timestamp', 1), 'timestamp', now(), $2,
              dcs_point_digest(p), p
       FROM (SELECT $1::jsonb AS j) s CROSS JOIN LATERAL (SELECT jsonb_set(j, '{passive-data-metadata,encrypted_transmission}', 'false') AS p) f`,
      [text, id],
    );
    await server.db.pool.query(`UPDATE bundles SET status = 'processed' WHERE id = $1`, [id]);
    const again = await createJson(server, `[${text}, ${fresh}]`);
    await server.process();
    expect(await bundle(server, again)).toMatchObject({ status: 'processed', point_count: 2, points_added: 1 });
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'before-1'`);
    expect(rows[0].n).toBe(1);
  });

  it('converts microseconds to timestamptz exactly, across the range points can have', async () => {
    const micros = [0, 1, -1, 999_999, 1_000_000, 843_315_200_000_123, -946_684_800_000_000, 9_007_199_254_740_991, 98_053_315_200_000_000];
    for (let i = 0; i < 2000; i++) micros.push(Math.floor((Math.random() - 0.1) * 2 ** (10 + Math.random() * 43)));
    const { rows } = await server.db.pool.query(
      // Read back exactly (extract gives numeric): every value comes back as sent.
      `SELECT count(*) FILTER (WHERE (extract(epoch FROM ${timestampFromMicros('u')}) * 1000000 - 946684800000000)::int8 <> u)::int AS wrong
       FROM unnest($1::int8[]) u`,
      [integerArray(micros)],
    );
    expect(rows[0].wrong).toBe(0);
  });

  it('runs a batch again when another transaction stores one of its points first, and stores it once', async () => {
    const racing = point('race', 'rex-page-event', '"event_type": "race"');
    const other = point('race-2', 'rex-page-event', '"event_type": "race-2"');
    const id = await createJson(server, `[${racing}, ${other}]`);
    // Another transaction inserts the same point and holds it, uncommitted, while the batch runs.
    const holder = await server.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO data_points (source, generator_id, generator, user_agent, created, created_from, recorded, bundle_id, content_digest, properties)
         SELECT 'race', 'rex-page-event', 'g: UA/1.0', 'UA/1.0', dcs_epoch(j -> 'passive-data-metadata' -> 'timestamp', 1), 'timestamp', now(), 0,
                dcs_point_digest(j), j FROM (SELECT $1::jsonb AS j) s`,
        [racing],
      );
      const batch = processBatch({ pool: server.running.db.pool, config: server.config, log: createLogger('silent') });
      // The batch's COPY waits on the uncommitted row; committing it makes that COPY fail.
      await waitForLockWait();
      await holder.query('COMMIT');
      const result = await batch;
      expect(result).toMatchObject({ bundles: 1, points: 2, added: 1, failed: 0 });
    } finally {
      holder.release();
    }
    expect(await bundle(server, id)).toMatchObject({ status: 'processed', points_added: 1 });
    const { rows } = await server.db.pool.query(`SELECT source, count(*)::int AS n FROM data_points WHERE source IN ('race', 'race-2') GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([{ source: 'race', n: 1 }, { source: 'race-2', n: 1 }]);
  });
});

/** Until some backend of this database waits for a transaction lock (bounded: 10 s). */
async function waitForLockWait(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the batch never waited for the other transaction');
}
