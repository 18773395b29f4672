/**
 * The original's stored points (passive_data_kit_datapoint) → our bundles, in the original's
 * (recorded, id) order so that each of its bundles' points stay together (import-bundles.ts).
 *
 * Pages by keyset on that order, using only the original's index on `recorded` (an index on
 * (recorded, id) does not exist there, and before PostgreSQL 13 sorting by both would sort the
 * whole rest of the table for every page): the points of one `recorded` time are read by id; the
 * next page is read in `recorded` order alone and sorted here, keeping only its whole groups.
 */
import type pg from 'pg';
import type { Pool } from '../db/database.ts';
import { transactionOn } from '../db/transaction.ts';
import { createImportBundleWriter } from './import-bundles.ts';
import { readImportPosition, readPointFailures, recordPointFailures, saveImportPosition, type ImportPosition, type PointFailure } from './import-progress.repository.ts';
import type { ImportReport } from './import-report.ts';
import { timeText } from './original-database.ts';
import { checkStoredPoint } from './point-check.ts';

const TABLE = 'passive_data_kit_datapoint';
const PAGE_SIZE = 2000;
const COLUMNS = `id, ${timeText('recorded')} AS recorded, source, properties::text AS properties`;

interface PointRow {
  id: number;
  recorded: string;
  source: string;
  properties: string;
}

const byRecordedThenId = (a: PointRow, b: PointRow) => (a.recorded < b.recorded ? -1 : a.recorded > b.recorded ? 1 : a.id - b.id);

/** Pages of the points after `from`, in (recorded, id) order. */
export async function* pointsAfter(client: pg.Client, from: { recorded: string; id: number }, pageSize = PAGE_SIZE): AsyncGenerator<PointRow[]> {
  let position = from;
  for (;;) {
    // The rest of the group of `position.recorded`.
    const { rows: rest } = await client.query<PointRow>(
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE recorded = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [position.recorded, position.id, pageSize],
    );
    if (rest.length > 0) {
      yield rest;
      position = rest.at(-1)!;
      if (rest.length === pageSize) continue;
    }
    const { rows: next } = await client.query<PointRow>(
      // The table's column: a bare `recorded` here would be the text of the select list, which no index orders.
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE recorded > $1 ORDER BY ${TABLE}.recorded LIMIT $2`,
      [position.recorded, pageSize],
    );
    if (next.length === 0) return;
    next.sort(byRecordedThenId);
    if (next.length < pageSize) {
      yield next;
      return;
    }
    // The last group may go on past the page: it is read by id next time round.
    const lastRecorded = next.at(-1)!.recorded;
    const whole = next.filter((row) => row.recorded !== lastRecorded);
    if (whole.length > 0) {
      yield whole;
      position = whole.at(-1)!;
    } else {
      position = { recorded: lastRecorded, id: -1 };
    }
  }
}

export interface PointsImport {
  /** Points read by this run, and by every run since the import started (or since `--from-start`). */
  pointsRead: number;
  pointsReadInAll: number;
  /** Where this run started: null from the beginning. */
  resumedFrom: ImportPosition | null;
  bundles: { written: number; alreadyStored: number };
}

/**
 * Counts the original's points per source and type (in the snapshot, so they are the points this
 * and earlier runs read), then writes those after the saved position (all with `fromStart`) as
 * our bundles, saving the position after every page. `onProgress` gets the points read so far.
 */
export async function importPoints(
  pool: Pool, client: pg.Client, origin: string, report: ImportReport,
  options: { fromStart: boolean; onProgress?: (pointsRead: number, total: number) => void },
): Promise<PointsImport> {
  const { rows: counts } = await client.query<{ source: string; generator_identifier: string; n: string }>(
    `SELECT source, generator_identifier, count(*) AS n FROM ${TABLE} GROUP BY 1, 2`,
  );
  let total = 0;
  for (const c of counts) {
    report.countOriginal(c.source, c.generator_identifier, Number(c.n));
    total += Number(c.n);
  }

  const saved = options.fromStart ? undefined : await readImportPosition(pool, origin);
  const before = saved?.pointsRead ?? 0;
  let pointsRead = 0;
  const renamed = { count: 0, examples: [] as string[] };
  // Each page is one transaction: its bundles, its failures and the position after it commit
  // together (and one commit, not one per bundle, waits for the disk).
  const db = await pool.connect();
  const writer = createImportBundleWriter(db, origin);
  try {
    for await (const page of pointsAfter(client, saved ?? { recorded: '-infinity', id: -1 })) {
      await transactionOn(db, async (tx) => {
        const failures: PointFailure[] = [];
        for (const row of page) {
          const key = `point ${row.id}`;
          const check = checkStoredPoint(row.properties);
          if (!check.ok) {
            failures.push({ key, reason: check.reason });
            continue;
          }
          if (check.source !== row.source) {
            renamed.count += 1;
            if (renamed.examples.length < 3) renamed.examples.push(`${key}: "${row.source}" → "${check.source}"`);
          }
          await writer.add({ key: String(row.id), recorded: row.recorded, properties: row.properties });
        }
        // A page's last group is written with it (a group cut here is two bundles, its points stored once).
        await writer.finish();
        await recordPointFailures(tx, origin, failures);
        pointsRead += page.length;
        const last = page.at(-1)!;
        await saveImportPosition(tx, origin, { recorded: last.recorded, id: last.id, pointsRead: before + pointsRead });
      });
      options.onProgress?.(before + pointsRead, total);
    }
  } finally {
    db.release();
  }
  // This run's failures and those of the runs it continues.
  for (const failure of await readPointFailures(pool, origin)) report.fail(failure.key, failure.reason);
  if (renamed.count > 0) {
    report.notes.push(
      `${renamed.count} points name another source in their passive-data-metadata than the original's source column ` +
      `(PDK_RENAME_SOURCE, or a missing source): they are stored here under the source their properties name (${renamed.examples.join('; ')})`,
    );
  }
  return {
    pointsRead,
    pointsReadInAll: before + pointsRead,
    resumedFrom: saved ?? null,
    bundles: { written: writer.counts.bundles, alreadyStored: writer.counts.alreadyStored },
  };
}
