/**
 * The original server's stored points become our bundles, so that they are in the record like any
 * upload: backed up, restored, reprocessed. Processing then stores them (deduplicated by their
 * `created` and content digest: importing twice, or from the database and the backups, stores each
 * point once) with the original's `recorded` (bundles.points_recorded_at) and its
 * `encrypted_transmission` (transport 'pdk-import', claim-bundles.ts).
 *
 * The original gave every point of a bundle one `recorded` time (pdk-server.md §8.1), so points
 * arriving in the original's order fall into few groups: a bundle holds consecutive points of one
 * `recorded`, at most MAX_POINTS of them and about MAX_BYTES of JSON (below processing's 2 MB batch,
 * so an imported bundle is never read in pieces unless one point alone is that large).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { derivedReceipt } from '../crypto/derived-receipt.ts';
import type { Pool, PoolClient } from '../db/database.ts';

const gzipAsync = promisify(gzip);

/** bundles.transport of imported bundles: processing keeps their points' own `encrypted_transmission` (claim-bundles.ts). */
const IMPORT_TRANSPORT = 'pdk-import';

const MAX_POINTS = 1000;
const MAX_BYTES = 1024 * 1024;

export interface OriginalPoint {
  /** Where the point came from, unique and stable within the import's origin: its pk, or its file and place. */
  key: string;
  /** Its `recorded` on the original server, as text PostgreSQL reads as a timestamptz (microseconds kept). */
  recorded: string;
  /** Its stored properties, as JSON text (an object with `passive-data-metadata`). */
  properties: string;
}

export interface ImportBundleWriter {
  /** Adds a point; writes a bundle when the point starts a new group. */
  add(point: OriginalPoint): Promise<void>;
  /** Writes the last group. */
  finish(): Promise<void>;
  /** Bundles written, and of them those already stored by an earlier run (same receipt: nothing new). */
  readonly counts: { bundles: number; alreadyStored: number; points: number };
}

/**
 * A bundle's receipt is derived from its origin and its first and last points' keys, so the same
 * group imported again (a re-run, a resumed run) is the same bundle and is not stored twice.
 */
function receiptOf(origin: string, first: string, last: string, n: number): string {
  return derivedReceipt(`pdk-import\n${origin}\n${first}\n${last}\n${n}`);
}

/**
 * `origin` names the source of the import (for example `database:host/name` or a backup file's name).
 * `pool` may be a client in a transaction: the caller then commits the bundles with its own bookkeeping.
 */
export function createImportBundleWriter(pool: Pool | PoolClient, origin: string): ImportBundleWriter {
  let group: OriginalPoint[] = [];
  let bytes = 0;
  const counts = { bundles: 0, alreadyStored: 0, points: 0 };

  async function write(): Promise<void> {
    if (group.length === 0) return;
    const points = group;
    group = [];
    bytes = 0;
    const body = await gzipAsync(`[${points.map((p) => p.properties).join(',')}]`);
    // received_at is the first point's original `recorded` (the same every run), so the key (received_at, receipt) finds it again
    const { rowCount } = await pool.query(
      `INSERT INTO bundles (receipt, received_at, points_recorded_at, endpoint, transport, compression, body)
       VALUES ($1, $2, $2, 'bundle', '${IMPORT_TRANSPORT}', 'gzip', $3)
       ON CONFLICT (received_at, receipt) DO NOTHING`,
      [receiptOf(origin, points[0].key, points.at(-1)!.key, points.length), points[0].recorded, body],
    );
    counts.bundles += 1;
    counts.points += points.length;
    if (rowCount === 0) counts.alreadyStored += 1;
  }

  return {
    counts,
    async add(point) {
      if (group.length > 0 && (group[0].recorded !== point.recorded || group.length >= MAX_POINTS || bytes + point.properties.length > MAX_BYTES)) {
        await write();
      }
      group.push(point);
      bytes += point.properties.length;
    },
    finish: write,
  };
}
