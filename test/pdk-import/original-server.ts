/**
 * A PostgreSQL database laid out and filled as an original PDK / Webmunk server leaves it
 * (test/fixtures/pdk-original-schema.sql): processed points of every sample type, stored as its
 * bundle processing stores them (one `recorded` per bundle, encrypted_transmission added), the
 * bundles it had not processed yet (plain, gzip, encrypted the Android way, errored), sources with
 * names and groups, suppression, an alert, and Keepa items with the harvest's cursor row.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import { sealBox } from '../../src/crypto/box.ts';
import { SAMPLES, type Point } from '../helpers/samples.ts';

const SCHEMA = readFileSync(new URL('../fixtures/pdk-original-schema.sql', import.meta.url), 'utf8');

interface Vector { serverSecretKey: string; serverPublicKey: string; clientSecretKey: string; clientPublicKey: string }
/** The keys of test/fixtures/pynacl-vector.json: the original's PDK_SERVER_KEY / PDK_CLIENT_KEY and the clients' pair. */
const VECTOR: Vector = JSON.parse(readFileSync(new URL('../fixtures/pynacl-vector.json', import.meta.url), 'utf8'));
export const KEY_ENV = { PDK_SERVER_KEY: VECTOR.serverSecretKey, PDK_CLIENT_KEY: VECTOR.clientPublicKey };

/** The original's bundles: which points each held, when it was recorded, and whether it came encrypted. */
const STORED_BUNDLES = [
  { recorded: '2023-07-22 10:00:00.000001+00', encrypted: false },
  { recorded: '2023-07-22 10:15:00.5+00', encrypted: true },
  { recorded: '2023-09-14 16:03:09.123456+00', encrypted: false },
  { recorded: '2024-01-02 00:00:00+00', encrypted: true },
];

/** A sample point for a participant who is not in the stored points (the pending bundles' points). */
function pendingPoint(index: number, source: string): Point {
  const point = structuredClone(SAMPLES[index]);
  point['passive-data-metadata'] = { ...point['passive-data-metadata'], source, timestamp: 1_700_000_000 + index + 0.25 };
  return point;
}

export const PENDING_SOURCE = 'moved-pending-1';
export const PENDING = {
  plain: [pendingPoint(0, PENDING_SOURCE), pendingPoint(1, PENDING_SOURCE)],
  gzip: [pendingPoint(2, PENDING_SOURCE), pendingPoint(3, PENDING_SOURCE), pendingPoint(4, PENDING_SOURCE)],
  encrypted: [pendingPoint(5, PENDING_SOURCE), pendingPoint(6, PENDING_SOURCE)],
  // The original's processing failed on it (no timestamp: a TypeError); ours takes its `date`.
  errored: [(() => {
    const point = pendingPoint(7, PENDING_SOURCE);
    delete point['passive-data-metadata']!.timestamp;
    point.date = 1_700_000_123_456;
    return point;
  })()],
};

/** What the Android client sends: base64 of a NaCl box of base64(gzip(JSON)), wrapped at 76 columns with CRLF. */
function androidEncrypted(points: Point[]): { encrypted: string; nonce: string } {
  const nonce = randomBytes(24);
  const plain = Buffer.from(gzipSync(JSON.stringify(points)).toString('base64'));
  const sealed = sealBox(plain, nonce, Buffer.from(VECTOR.serverPublicKey, 'base64'), Buffer.from(VECTOR.clientSecretKey, 'base64'));
  const wrap = (text: string) => `${text.match(/.{1,76}/g)!.join('\r\n')}\r\n`;
  return { encrypted: wrap(Buffer.from(sealed).toString('base64')), nonce: wrap(nonce.toString('base64')) };
}

export interface OriginalContents {
  /** ids of the stored points that cannot be imported, with the reason the report must give */
  badPoints: { id: number; reason: string }[];
  /** the original's id of the bundle whose body it could not even parse */
  unparsedBundleId: number;
  storedPoints: number;
}

/** Creates the original's tables in `pool`'s (empty) database and fills them. */
export async function fillOriginal(pool: pg.Pool): Promise<OriginalContents> {
  await pool.query(SCHEMA);

  const { rows: groups } = await pool.query(
    `INSERT INTO passive_data_kit_datasourcegroup (name, suppress_alerts) VALUES ('Wave 1', false), ('Pilot', true), ('Pilot', false) RETURNING id`,
  );
  // DataSource rows as the original's processing makes them (name = identifier), some renamed and grouped.
  const sources = [...new Set(SAMPLES.map((s) => s['passive-data-metadata']!.source as string))];
  for (const [i, source] of sources.entries()) {
    await pool.query(
      `INSERT INTO passive_data_kit_datasource (identifier, name, suppress_alerts, group_id) VALUES ($1, $2, $3, $4)`,
      [source, i === 0 ? 'Participant one' : source, i === 1, i === 2 ? groups[1].id : i < 2 ? groups[0].id : null],
    );
  }
  await pool.query(
    `INSERT INTO passive_data_kit_datasourcealert (alert_name, alert_level, alert_details, generator_identifier, created, updated, active, data_source_id)
     SELECT 'No recent data', 'warning', '{"message": "No data in 24 hours"}', 'pdk-data-upload', now(), now(), true, id FROM passive_data_kit_datasource ORDER BY id LIMIT 1`,
  );

  // The stored points, bundle by bundle, inserted in an order other than (recorded, id) so ids do not follow `recorded`.
  const rows = SAMPLES.map((sample, i) => {
    const bundle = STORED_BUNDLES[i % STORED_BUNDLES.length];
    const properties = structuredClone(sample);
    properties['passive-data-metadata'] = { ...properties['passive-data-metadata'], encrypted_transmission: bundle.encrypted };
    return { properties, recorded: bundle.recorded };
  }).reverse();
  for (const row of rows) {
    const meta = row.properties['passive-data-metadata']!;
    const generator = meta.generator as string;
    await pool.query(
      `INSERT INTO passive_data_kit_datapoint (source, generator, generator_identifier, user_agent, created, server_generated, recorded, properties)
       VALUES ($1, $2, $3, $4, to_timestamp($5::float8), false, $6, $7)`,
      [meta.source, generator, meta['generator-id'] ?? 'unknown-generator', generator.slice(generator.indexOf(':') + 1).trim(), meta.timestamp, row.recorded, row.properties],
    );
  }
  // Points the original holds but that are not points: kept there by some other app, say.
  const { rows: bad } = await pool.query(
    `INSERT INTO passive_data_kit_datapoint (source, generator, generator_identifier, created, server_generated, recorded, properties)
     VALUES ('bric-0a93f1', 'pdk-app-event', 'pdk-app-event', '2023-09-14 16:00:00+00', false, '2023-09-14 16:03:09.123456+00', '{"event_name": "no metadata"}'),
            ('bric-0a93f1', 'pdk-app-event', 'pdk-app-event', '2023-09-14 16:00:01+00', false, '2023-09-14 16:03:09.123456+00',
             '{"passive-data-metadata": {"source": "bric-0a93f1", "timestamp": 1694707201}}')
     RETURNING id`,
  );

  const bundle = (recorded: string, properties: unknown, options: { encrypted?: boolean; compression?: string; processed?: boolean; errored?: boolean } = {}) => pool.query(
    `INSERT INTO passive_data_kit_databundle (recorded, errored, properties, processed, encrypted, compression)
     VALUES ($1, CASE WHEN $2 THEN $1::timestamptz + interval '1 minute' END, $3, $4, $5, $6) RETURNING id`,
    [recorded, options.errored ?? false, JSON.stringify(properties), options.processed ?? false, options.encrypted ?? false, options.compression ?? 'none'],
  );
  // Processed (its points are the stored ones): not imported again.
  await bundle('2023-07-22 09:59:58+00', SAMPLES.slice(0, 3), { processed: true });
  const { rows: [plain] } = await bundle('2024-02-01 12:00:00.654321+00', PENDING.plain);
  await bundle('2024-02-01 12:00:01+00', { payload: gzipSync(JSON.stringify(PENDING.gzip)).toString('base64') }, { compression: 'gzip' });
  await bundle('2024-02-01 12:00:02+00', androidEncrypted(PENDING.encrypted), { encrypted: true, compression: 'gzip' });
  await bundle('2024-02-01 12:00:03+00', PENDING.errored, { errored: true });
  // An upload the original could not parse: its raw body, as a JSON string, errored and processed.
  const { rows: [unparsed] } = await bundle('2024-02-01 12:00:04+00', '[{"passive-data-metadata": {"source": "x"', { errored: true, processed: true });
  await pool.query(
    `INSERT INTO passive_data_kit_datafile (identifier, content_type, content_file, data_bundle_id) VALUES ('screenshot@', 'image/png', 'data_files/screenshot', $1)`,
    [plain.id],
  );

  await pool.query(
    `INSERT INTO support_amazonasinitem (asin, name, category, brand, added, updated, metadata) VALUES
       ('B08N5WRWNW', 'Echo Dot', 'Electronics > Smart Home', 'Amazon', '2023-09-14 16:03:09+00', '2023-09-15 08:00:00+00',
        '{"keepa": [{"asin": "B08N5WRWNW", "title": "Echo Dot (4th Gen)", "brand": "Amazon", "rootCategory": 172282,
          "categoryTree": [{"catId": 172282, "name": "Electronics"}, {"catId": 6563140011, "name": "Smart Home"}],
          "data": {"NEW": [49.99, NaN], "NEW_time": ["2023-09-01T00:00:00", "2023-09-02T00:00:00"]}}]}'),
       ('B07FZ8S74R', 'Old copy', NULL, NULL, '2023-09-14 16:03:09+00', '2023-09-15 08:00:00+00', '{"keepa": [{"asin": "B07FZ8S74R", "title": "Old copy"}]}'),
       ('B07XJ8C8F5', NULL, NULL, NULL, '2023-09-14 16:03:10+00', '2023-09-14 16:05:00+00', NULL),
       ('2023-10-19T12:34:56.123456+00:00', NULL, NULL, NULL, '2023-10-19 12:34:56.123456+00', '2023-10-19 12:34:56.123456+00', NULL)`,
  );
  return {
    badPoints: [
      { id: bad[0].id, reason: 'it has no passive-data-metadata object' },
      { id: bad[1].id, reason: 'its passive-data-metadata has no generator' },
    ],
    unparsedBundleId: unparsed.id,
    storedPoints: SAMPLES.length + bad.length,
  };
}
