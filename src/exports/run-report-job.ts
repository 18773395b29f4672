/**
 * Runs one claimed report job: writes its archive under EXPORT_DIR/.partial, beats its
 * heartbeat while it works (so a crash is noticed and the job picked up again), then stores the
 * archive at every destination. Any failure (a query, the disk, an S3 upload after its retries)
 * marks the job failed with the error; it can be retried from the Export page.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { coerceError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { sendMail } from '../mail/mailer.ts';
import { typeLabels } from './export-catalog.repository.ts';
import { partialPath, storeAsFile, storeInFolder } from './destinations/folder.ts';
import { uploadFileToS3, type S3Settings } from './destinations/s3.ts';
import { failReportJob, finishReportJob, recordReportJobProgress, setReportJobFileName, type ReportJob } from './report-jobs.repository.ts';
import { SERVER_VERSION } from './server-version.ts';
import { writeExport, type ExportProgress } from './write-export.ts';
import { dayInZone } from './zoned-time.ts';

export interface RunDeps {
  pool: Pool;
  /**
   * Where the archive's points and the rest of its contents are read: DATABASE_READ_URL's pool
   * when set (database.ts). The job's own state (progress, outcome) is written to `pool`.
   */
  readPool?: Pool;
  config: Config;
  log: Logger;
  /** Called with each progress report (the CLI draws its bar from it). */
  onProgress?: (progress: ExportProgress, job: ReportJob) => void;
  /** Called with each file or object the archive replaced (dcs export nightly --from/--to says which). */
  onReplaced?: (place: string) => void;
  /** For tests: the S3 retry waits. */
  s3RetryDelaysMs?: readonly number[];
}

const HEARTBEAT_MS = 30_000;
const PROGRESS_WRITE_MS = 2_000;

/** `<folder><prefix>_<id>_<start day>.zip`, the original's name (pdk-server.md §7.3). */
export function archiveName(job: Pick<ReportJob, 'id' | 'nameFolder' | 'namePrefix'>, startedAt: Date, timeZone: string): string {
  return `${job.nameFolder}${job.namePrefix}_${job.id}_${dayInZone(startedAt.getTime() * 1000, timeZone)}.zip`;
}

export async function runReportJob(deps: RunDeps, job: ReportJob): Promise<'done' | 'failed'> {
  const { pool, config, log } = deps;
  // A job run again (a retry, a nightly re-run) keeps its name: its archive replaces the last one.
  const fileName = job.fileName ?? archiveName(job, job.startedAt ?? new Date(), config.timeZone);
  if (!job.fileName) await setReportJobFileName(pool, job.id, fileName);
  const partial = await partialPath(config.exportDir, job.id);
  const storedAt: string[] = [];
  let lastWrite = 0;
  let latest: ExportProgress = { points: 0, typesDone: 0, sourcesDone: 0, typesTotal: job.types.length, sourcesTotal: job.sources.length };
  const beat = () => recordReportJobProgress(pool, job.id, latest).catch((error) => log.warn({ err: error, job: job.id }, 'could not record export progress'));
  // A long sort inside PostgreSQL reports no progress for a while; the heartbeat goes on regardless.
  const heartbeat = setInterval(beat, HEARTBEAT_MS);
  try {
    const counts = await writeExport(
      { pool: deps.readPool ?? pool, timeZone: config.timeZone, serverSecretKey: config.serverSecretKey, labels: await typeLabels(pool), serverVersion: SERVER_VERSION, publicUrl: config.publicUrl },
      { sources: job.sources, types: job.types, from: job.from ?? undefined, to: job.to ?? undefined, dateType: job.dateType, format: job.format },
      partial,
      (progress) => {
        latest = progress;
        deps.onProgress?.(progress, job);
        if (Date.now() - lastWrite >= PROGRESS_WRITE_MS) {
          lastWrite = Date.now();
          void beat();
        }
      },
    );
    const fileBytes = (await fs.stat(partial)).size;
    const points = [...counts.values()].reduce((sum, { perSource }) => sum + [...perSource.values()].reduce((a, b) => a + b, 0), 0);
    const file = job.destinations.find((d) => d.startsWith('file:'));
    const target = file ? path.resolve(file.slice('file:'.length)) : path.resolve(config.exportDir, fileName);
    const replacing = await fs.stat(target).then(() => true, () => false);
    const local = file ? await storeAsFile(partial, target) : await storeInFolder(partial, config.exportDir, fileName);
    storedAt.push(local);
    if (replacing) replaced(deps, job, local);
    if (job.destinations.includes('s3')) {
      if (!config.exportS3Bucket) throw new Error('the job is to be uploaded to S3, but EXPORT_S3_BUCKET is not set');
      const settings: S3Settings = { bucket: config.exportS3Bucket, prefix: config.exportS3Prefix, forcePathStyle: config.exportS3ForcePathStyle, retryDelaysMs: deps.s3RetryDelaysMs };
      const object = await uploadFileToS3(local, fileName, settings, log);
      storedAt.push(object);
      // the job's last run stored it there (a nightly job re-run keeps its key)
      if (job.storedAt.includes(object)) replaced(deps, job, object);
    }
    await finishReportJob(pool, job.id, { points, fileBytes, storedAt });
    log.info({ job: job.id, points, fileBytes, storedAt }, `export ${fileName} done`);
    await notify(deps, job, fileName, undefined);
    return 'done';
  } catch (thrown) {
    const error = coerceError(thrown);
    log.error({ err: error, job: job.id }, `export ${fileName} failed`);
    await fs.rm(partial, { force: true });
    await failReportJob(pool, job.id, error.message, storedAt);
    await notify(deps, job, fileName, error);
    return 'failed';
  } finally {
    clearInterval(heartbeat);
  }
}

function replaced(deps: RunDeps, job: ReportJob, place: string): void {
  deps.log.info({ job: job.id, replaced: place }, `export job ${job.id} replaced ${place}`);
  deps.onReplaced?.(place);
}

/** The optional e-mail notice (EXPORT_NOTIFY_EMAIL); a mail failure never fails the export. */
async function notify(deps: RunDeps, job: ReportJob, fileName: string, error: Error | undefined): Promise<void> {
  const { config, log } = deps;
  if (config.exportNotifyEmail.length === 0 || job.destinations.some((d) => d.startsWith('file:'))) return;
  const link = `${config.publicUrl}/data/export/jobs/${job.id}/download`;
  const text = error
    ? `Export job ${job.id} (${fileName}) failed:\n\n${error.message}\n\nRetry it from ${config.publicUrl}/data/export\n`
    : `Export job ${job.id} is ready: ${fileName}\n\nDownload it (after logging in) from ${link}\n`;
  try {
    await sendMail(config, { to: config.exportNotifyEmail, subject: `[webmunk-dcs] Export ${error ? 'failed' : 'ready'}: ${fileName}`, text });
  } catch (mailError) {
    log.warn({ err: mailError, job: job.id }, 'could not send the export notice');
  }
}
