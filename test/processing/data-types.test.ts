/**
 * The data-type catalog: every DATA_TYPES entry is in the `data_types` table that processing joins,
 * each kind of secondary-identifier rule works, and unknown generator ids are stored like any other
 * with no secondary identifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, labelFor, syncDataTypes } from '../../src/processing/data-types.ts';
import type { Point } from '../helpers/samples.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bundle, postGzip } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

let clock = 1_760_000_000;
/** A minimal point of generator `id` for participant `source`, with its own timestamp. */
function point(id: string, source: string, body: Record<string, unknown> = {}): Point {
  clock += 1;
  return {
    ...body,
    'passive-data-metadata': { source, generator: `${id}: Test/1.0 (X11)`, 'generator-id': id, timestamp: clock },
  };
}

async function secondaries(source: string): Promise<Record<string, string | null>> {
  const { rows } = await server.db.pool.query(
    `SELECT properties ->> 'case' AS name, secondary_identifier FROM data_points WHERE source = $1`,
    [source],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.secondary_identifier]));
}

describe('data_types', () => {
  it('holds every catalog entry, with its label and rule', async () => {
    const ids = DATA_TYPES.map((t) => t.identifier);
    expect(new Set(ids).size).toBe(ids.length);
    const { rows } = await server.db.pool.query('SELECT identifier, label, secondary_kind, secondary_path FROM data_types');
    const table = new Map(rows.map((r) => [r.identifier, r]));
    for (const type of DATA_TYPES) {
      expect(table.get(type.identifier), type.identifier).toEqual({
        identifier: type.identifier,
        label: type.label,
        secondary_kind: type.secondary?.kind ?? null,
        secondary_path: type.secondary?.path ?? [],
      });
      expect(labelFor(type.identifier)).toBe(type.label);
    }
    expect(rows).toHaveLength(DATA_TYPES.length);
    expect(labelFor('never-heard-of-it')).toBe('never-heard-of-it');
  });

  it('is brought back in line by syncDataTypes, keeping rows no longer listed', async () => {
    await server.db.pool.query(`UPDATE data_types SET label = 'changed', secondary_kind = NULL WHERE identifier = 'pdk-app-event'`);
    await server.db.pool.query(`INSERT INTO data_types (identifier, label) VALUES ('retired-type', 'Retired')`);
    await syncDataTypes(server.db.pool);
    await syncDataTypes(server.db.pool); // idempotent
    const { rows } = await server.db.pool.query(
      `SELECT identifier, label, secondary_kind, secondary_path FROM data_types WHERE identifier IN ('pdk-app-event', 'retired-type') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { identifier: 'pdk-app-event', label: 'App Events', secondary_kind: 'key', secondary_path: ['event_name'] },
      { identifier: 'retired-type', label: 'Retired', secondary_kind: null, secondary_path: null },
    ]);
  });
});

describe('secondary identifiers', () => {
  it('applies each kind of rule: key, url-host, voices-present', async () => {
    const source = 'types-rules';
    const points = [
      point('pdk-app-event', source, { case: 'key', event_name: 'rex-spider-stuck' }),
      point('pdk-device-battery', source, { case: 'key-number', status: 3 }),
      point('pdk-app-event', source, { case: 'key-missing' }),
      point('pdk-mitmproxy-visit', source, { case: 'host', url: 'https://someone@www.example.org:8443/a/b?c=d#e' }),
      point('pdk-mitmproxy-visit', source, { case: 'host-not-url', url: 'not a url' }),
      point('pdk-voice-activity', source, { case: 'voices-true', voices_present: true }),
      point('pdk-voice-activity', source, { case: 'voices-false', voices_present: false }),
      point('pdk-voice-activity', source, { case: 'voices-missing' }),
    ];
    const id = await postGzip(server, points);
    await server.process();
    expect((await bundle(server, id)).points_added).toBe(points.length);
    expect(await secondaries(source)).toEqual({
      key: 'rex-spider-stuck',
      'key-number': '3',
      'key-missing': null,
      host: 'www.example.org',
      'host-not-url': null,
      'voices-true': 'present',
      'voices-false': 'not-present',
      'voices-missing': 'unknown',
    });
  });

  it('stores unknown generator ids with no secondary identifier, and uses rows added to the table', async () => {
    const source = 'types-unknown';
    const points = [
      point('rex-pdk-v3-test', source, { case: 'unknown', action: 'would-be-secondary', event_name: 'x' }),
      point('PDK-APP-EVENT', source, { case: 'other-case', event_name: 'x' }), // ids are case-sensitive
      point('custom-study-type', source, { case: 'custom-before', topic: 'weather' }),
    ];
    await postGzip(server, points);
    await server.process();
    expect(await secondaries(source)).toEqual({ unknown: null, 'other-case': null, 'custom-before': null });
    const { rows } = await server.db.pool.query(`SELECT generator_id, user_agent FROM data_points WHERE source = $1 ORDER BY generator_id`, [source]);
    expect(rows).toEqual([
      { generator_id: 'PDK-APP-EVENT', user_agent: 'Test/1.0 (X11)' },
      { generator_id: 'custom-study-type', user_agent: 'Test/1.0 (X11)' },
      { generator_id: 'rex-pdk-v3-test', user_agent: 'Test/1.0 (X11)' },
    ]);

    // A deployment can describe its own type: processing joins the table, not the code list.
    await server.db.pool.query(
      `INSERT INTO data_types (identifier, label, secondary_kind, secondary_path) VALUES ('custom-study-type', 'Custom', 'key', '{topic}')`,
    );
    await postGzip(server, [point('custom-study-type', source, { case: 'custom-after', topic: 'news' })]);
    await server.process();
    expect((await secondaries(source))['custom-after']).toBe('news');
  });
});
