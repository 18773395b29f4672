/**
 * The original's bundles that it has not turned into points (pending, or errored) become our
 * pending bundles, as if they had just been uploaded here: processing decodes them with our
 * PDK_SERVER_KEY / PDK_CLIENT_KEY (the original's, for encrypted ones) and sets their points'
 * `encrypted_transmission` as the original would have. Processed bundles are not needed: their
 * points are imported (database-points.ts).
 *
 * How the original stored an upload (pdk-server.md §4.1; PDK's views.py) and what it becomes here
 * (bundles' columns, migrations 0001, 0002, 0007):
 *   encrypted:                 {"encrypted": base64, "nonce": base64} → body and nonce decoded, encrypted
 *   compressed, not encrypted: {"payload": base64 of gzip}            → body decoded, compression as stored
 *   neither:                   the points themselves (jsonb)          → their JSON text, gzipped at rest
 *   could not be parsed:       the raw body as a JSON string          → the raw body, gzipped at rest
 * A bundle that cannot be mapped (base64 that is not, a missing nonce) is stored errored with the
 * reason, so it is kept and reported, never dropped.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type pg from 'pg';
import { derivedReceipt } from '../crypto/derived-receipt.ts';
import { decodeBase64, type BoxKeys } from '../crypto/box.ts';
import type { Pool } from '../db/database.ts';
import type { BundlesRow } from '../db/rows.ts';
import { decodePayload, PayloadError } from '../payload/bundle-codec.ts';
import type { ImportReport } from './import-report.ts';
import { pagesById, timeText } from './original-database.ts';

const gzipAsync = promisify(gzip);

/** bundles.transport of the original's unprocessed bundles: processing treats them as uploads. */
const TRANSPORT = 'pdk-import-bundle';
const PAGE_SIZE = 100;
/** Decoding a bundle to count its points: larger ones are left to processing, which reads them as a stream. */
const COUNT_MAX_BYTES = 64 * 1024 * 1024;

interface OriginalBundle {
  id: number;
  recorded: string;
  errored: boolean;
  encrypted: boolean;
  compression: string;
  properties: string;
  files: number;
}

interface MappedBundle {
  compression: string;
  encrypted: boolean;
  nonce: Buffer | null;
  body: Buffer;
  compressedAtRest: boolean;
  /** Set when it cannot be processed: it is stored errored. */
  error?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

async function gzippedText(text: string): Promise<MappedBundle> {
  return { compression: 'gzip', encrypted: false, nonce: null, body: await gzipAsync(text), compressedAtRest: true };
}

/** The original's bundle as one of ours (see the table at the top). */
export async function mapBundle(bundle: Pick<OriginalBundle, 'encrypted' | 'compression' | 'properties'>): Promise<MappedBundle> {
  let properties: unknown;
  try {
    properties = JSON.parse(bundle.properties);
  } catch {
    // A text column (PDK_DISABLE_NATIVE_JSON_FIELDS) holding what is not JSON: keep it as the body.
    return { ...(await gzippedText(bundle.properties)), error: 'the original stored this bundle as text that is not JSON' };
  }
  const base64Field = (name: string): Buffer | undefined => {
    const value = isObject(properties) ? properties[name] : undefined;
    return typeof value === 'string' ? decodeBase64(value) : undefined;
  };
  if (bundle.encrypted) {
    const body = base64Field('encrypted');
    const nonce = base64Field('nonce');
    if (!body || !nonce) {
      return { ...(await gzippedText(bundle.properties)), error: 'encrypted bundle without a base64 "encrypted" payload and "nonce"' };
    }
    return { compression: bundle.compression, encrypted: true, nonce, body, compressedAtRest: false };
  }
  if (bundle.compression !== 'none') {
    const body = base64Field('payload');
    if (!body) return { ...(await gzippedText(bundle.properties)), error: `${bundle.compression} bundle without a base64 "payload"` };
    return { compression: bundle.compression, encrypted: false, nonce: null, body, compressedAtRest: false };
  }
  return gzippedText(typeof properties === 'string' ? properties : bundle.properties);
}

/** The receipt of the original's bundle `id`: the same bundle imported again is not stored twice. */
function receiptOf(origin: string, id: number): string {
  return derivedReceipt(`pdk-import-bundle\n${origin}\n${id}`);
}

/**
 * Counts the points of a bundle on the original's side of the report, as processing will see
 * them; one that cannot be decoded here fails processing too, which reports it.
 */
function countPoints(report: ImportReport, mapped: MappedBundle, keys: BoxKeys | undefined): void {
  if (mapped.error) return;
  let points: unknown;
  try {
    const text = decodePayload(mapped, keys, COUNT_MAX_BYTES);
    if (text === undefined) return;
    points = JSON.parse(text.trim().startsWith('{') ? `[${text}]` : text);
  } catch (error) {
    if (error instanceof PayloadError || error instanceof SyntaxError) return;
    throw error;
  }
  if (!Array.isArray(points)) return;
  for (const point of points) {
    const meta = isObject(point) ? point['passive-data-metadata'] : undefined;
    if (!isObject(meta) || !('source' in meta) || !('generator' in meta)) continue; // processing reports these
    const source = typeof meta.source === 'string' || typeof meta.source === 'number' || typeof meta.source === 'boolean' ? String(meta.source) : '';
    const generatorId = typeof meta['generator-id'] === 'string' && meta['generator-id'] ? meta['generator-id'] : 'unknown-generator';
    report.countOriginal(source || 'missing-source', generatorId, 1);
  }
}

export interface ImportedBundle {
  /** The original's bundle id. */
  originalId: number;
  receipt: string;
  /** Our received_at: the original's `recorded`, as text (exact to the microsecond). */
  receivedAt: string;
  /** The original had given up on it (DataBundle.errored). */
  erroredThere: boolean;
}

/**
 * Stores the original's pending and errored bundles as ours. Returns them (for the check after
 * processing: `bundleOutcomes`) and how many were stored before by an earlier run.
 */
export async function importPendingBundles(
  pool: Pool, client: pg.Client, origin: string, report: ImportReport, keys: BoxKeys | undefined,
): Promise<{ bundles: ImportedBundle[]; alreadyStored: number; files: number }> {
  const bundles: ImportedBundle[] = [];
  let alreadyStored = 0;
  let files = 0;
  const hasFiles = (await client.query(`SELECT to_regclass('passive_data_kit_datafile') IS NOT NULL AS has`)).rows[0].has as boolean;
  const pages = pagesById<OriginalBundle>(client, {
    columns: `${timeText('recorded')} AS recorded, errored IS NOT NULL AS errored, encrypted, compression, properties::text AS properties,
              ${hasFiles ? '(SELECT count(*)::int FROM passive_data_kit_datafile f WHERE f.data_bundle_id = b.id)' : '0'} AS files`,
    table: 'passive_data_kit_databundle b',
    where: 'NOT processed OR errored IS NOT NULL',
    pageSize: PAGE_SIZE,
  });
  for await (const page of pages) {
    for (const bundle of page) {
      const mapped = await mapBundle(bundle);
      const receipt = receiptOf(origin, bundle.id);
      // received_at is the original's (the same every run), so the key (received_at, receipt) finds a bundle imported before
      const { rowCount } = await pool.query(
        `INSERT INTO bundles (receipt, received_at, endpoint, transport, compression, encrypted, nonce, body, compressed_at_rest, status, error, processed_at)
         VALUES ($1, $2, 'bundle', '${TRANSPORT}', $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'errored' THEN now() END)
         ON CONFLICT (received_at, receipt) DO NOTHING`,
        [receipt, bundle.recorded, mapped.compression, mapped.encrypted, mapped.nonce, mapped.body, mapped.compressedAtRest,
          mapped.error ? 'errored' : 'pending', mapped.error ?? null],
      );
      if (rowCount === 0) alreadyStored += 1;
      bundles.push({ originalId: bundle.id, receipt, receivedAt: bundle.recorded, erroredThere: bundle.errored });
      countPoints(report, mapped, keys);
      if (bundle.files > 0) {
        files += bundle.files;
        report.notes.push(
          `bundle ${bundle.id} has ${bundle.files} attached files (passive_data_kit_datafile): they are in the original's MEDIA_ROOT/data_files, ` +
          'not in its database, and were not imported; points naming them are stored without them',
        );
      }
    }
  }
  return { bundles, alreadyStored, files };
}

/**
 * After processing: the imported bundles that could not be processed, or whose points processing
 * rejected, as failures of the report (the bundles stay stored, errored, with the reason).
 */
export async function reportBundleOutcomes(pool: Pool, bundles: readonly ImportedBundle[], report: ImportReport): Promise<void> {
  const byReceipt = new Map(bundles.map((b) => [b.receipt, b]));
  for (let i = 0; i < bundles.length; i += 1000) {
    const { rows } = await pool.query<Pick<BundlesRow, 'status' | 'error'> & { receipt: string; rejections: Record<string, number> | null }>(
      `SELECT receipt::text, status, error, rejections FROM bundles
        WHERE received_at = ANY($1::timestamptz[]) AND receipt = ANY($2::uuid[]) AND (status <> 'processed' OR points_rejected > 0)`,
      [bundles.slice(i, i + 1000).map((b) => b.receivedAt), bundles.slice(i, i + 1000).map((b) => b.receipt)],
    );
    for (const row of rows) {
      const bundle = byReceipt.get(row.receipt)!;
      const key = `bundle ${bundle.originalId}`;
      if (row.status === 'errored') report.fail(key, `could not be processed${bundle.erroredThere ? ' (nor by the original)' : ''}: ${row.error}`);
      else if (row.status === 'pending') report.fail(key, 'still pending after processing (another worker holds it: run the import again to see its outcome)');
      for (const [reason, n] of Object.entries(row.rejections ?? {})) report.fail(key, `${n} of its points rejected (${reason})`);
    }
  }
}
