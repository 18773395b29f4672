/**
 * Confirmed rows become bundles for the participant's source, as if their browser had uploaded
 * them: in the record (backed up, restored, reprocessed) and deduplicated by processing like any
 * upload, so the same file donated twice stores each point once. Each point carries the
 * `passive-data-metadata` the original's create_data_point wrote (ecosystem-api.md §3).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { derivedReceipt } from '../crypto/derived-receipt.ts';
import type { PoolClient } from '../db/database.ts';
import type { DonationPoint } from './importer-contract.ts';

const gzipAsync = promisify(gzip);

/** bundles.transport of donated points (processing treats them as any unencrypted upload). */
const DONATION_TRANSPORT = 'donation';
/** Points per bundle: well under processing's limits, so a 150,000-message ChatGPT export is a few dozen bundles. */
const POINTS_PER_BUNDLE = 5000;

export function storedPoint(point: DonationPoint, identifier: string): Record<string, unknown> {
  return {
    ...point.properties,
    'passive-data-metadata': {
      timestamp: Math.floor(point.created.getTime() / 1000),
      'generator-id': point.generatorId,
      generator: `${point.generatorId}: Passive Data Kit External Importer`,
      source: identifier,
    },
  };
}

/**
 * Inserts the points as bundles (in the caller's transaction) and returns the first bundle's id.
 * A repeated confirmation stores nothing twice because the file's row is locked and leaves
 * `awaiting-confirmation` in the same transaction (participant.routes.ts); the receipt per file and
 * part is unique only with received_at (now(): migration 0034), so it no longer catches a repeat.
 */
export async function insertDonationBundles(db: PoolClient, fileId: number, identifier: string, points: readonly DonationPoint[]): Promise<number | undefined> {
  let first: number | undefined;
  for (let start = 0, part = 0; start < points.length; start += POINTS_PER_BUNDLE, part += 1) {
    const slice = points.slice(start, start + POINTS_PER_BUNDLE).map((point) => storedPoint(point, identifier));
    const { rows } = await db.query(
      `INSERT INTO bundles (receipt, endpoint, transport, content_type, compression, body, identifier)
       VALUES ($1, 'bundle', '${DONATION_TRANSPORT}', 'application/json', 'gzip', $2, $3)
       ON CONFLICT (received_at, receipt) DO NOTHING RETURNING id::int`,
      [derivedReceipt(`donation\n${fileId}\n${part}`), await gzipAsync(JSON.stringify(slice)), identifier],
    );
    first ??= rows[0]?.id;
  }
  return first;
}
