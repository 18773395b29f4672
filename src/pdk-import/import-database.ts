/**
 * `dcs import-pdk --database URL`: an original PDK / Webmunk server's PostgreSQL → this server.
 * Groups and sources first (so the dashboard shows their names as soon as points arrive), then
 * the stored points (resumable), the bundles it had not processed yet, and the Keepa metadata.
 * Everything is read in one snapshot of the original and written idempotently here; processing
 * (the CLI runs it next) turns the bundles into points.
 */
import type { BoxKeys } from '../crypto/box.ts';
import type { Pool } from '../db/database.ts';
import { importAmazonItems, type AmazonImport } from './amazon-items.ts';
import { importPoints, type PointsImport } from './database-points.ts';
import { clearImportPosition, lockImport } from './import-progress.repository.ts';
import { createImportReport, type ImportReport } from './import-report.ts';
import { openOriginalDatabase } from './original-database.ts';
import { importPendingBundles, type ImportedBundle } from './pending-bundles.ts';
import { importSources, type SourcesImport } from './sources.ts';

export interface DatabaseImportOptions {
  url: string;
  /** Read every point again instead of continuing after the last run's position. */
  fromStart: boolean;
  /** PDK_SERVER_KEY / PDK_CLIENT_KEY: to count the points of encrypted pending bundles. */
  keys: BoxKeys | undefined;
  /** Progress lines for the terminal (stderr). */
  progress: (line: string) => void;
}

export interface DatabaseImport {
  origin: string;
  report: ImportReport;
  sources: SourcesImport;
  points: PointsImport;
  pending: { bundles: ImportedBundle[]; alreadyStored: number; files: number };
  amazon: AmazonImport | null;
}

export async function importPdkDatabase(pool: Pool, options: DatabaseImportOptions): Promise<DatabaseImport> {
  const original = await openOriginalDatabase(options.url);
  const { origin, client } = original;
  const report = createImportReport();
  const lock = await lockImport(pool, origin).catch(async (error) => {
    await original.close();
    throw error;
  });
  if (!lock) {
    await original.close();
    throw new Error(`another dcs import-pdk of ${origin} is running; wait for it to finish`);
  }
  try {
    const say = options.progress;
    say(`importing from ${origin}`);
    const sources = await importSources(pool, client, report, original.has);
    say(`sources: ${sources.sources} (${sources.added} new here), groups: ${sources.groups}`);

    if (options.fromStart) await clearImportPosition(pool, origin);
    let lastLine = 0;
    const points = await importPoints(pool, client, origin, report, {
      fromStart: options.fromStart,
      onProgress(read, total) {
        if (Date.now() - lastLine < 2_000 && read < total) return;
        lastLine = Date.now();
        say(`points: ${read} of ${total} read`);
      },
    });
    if (points.resumedFrom) say(`points: continued after point ${points.resumedFrom.id} (recorded ${points.resumedFrom.recorded}); --from-start reads them all again`);
    say(`points: ${points.pointsRead} read this run (${points.pointsReadInAll} in all), ${points.bundles.written} bundles written (${points.bundles.alreadyStored} stored before)`);

    const pending = await importPendingBundles(pool, client, origin, report, options.keys);
    say(`bundles the original had not processed: ${pending.bundles.length} (${pending.alreadyStored} stored before)`);

    let amazon: AmazonImport | null = null;
    if (original.has('support_amazonasinitem')) {
      amazon = await importAmazonItems(pool, client, report);
      say(`Amazon products with Keepa metadata: ${amazon.enriched} (${amazon.unchanged} already as recent here), ${amazon.notEnriched} not enriched, ${amazon.markers} cursor rows skipped`);
    }
    return { origin, report, sources, points, pending, amazon };
  } finally {
    await lock.release();
    await original.close();
  }
}
