/**
 * A report job run again (issue 21 §3): a new job with the same request (types, selection, days,
 * date type, format, destinations), linked to the original by `rerun_of`, under a name of its own
 * so the original archive stays to be compared. The selection is resolved again (a group's sources
 * now) and the rules in force now apply; on the same data and rules the archive is the same bytes.
 * Nightly jobs are re-run by night instead (dcs export nightly --from/--to), in their own files.
 */
import type { Pool } from '../db/database.ts';
import { resolveSources } from './export-catalog.repository.ts';
import { getReportJob, insertReportJob, type ReportJob } from './report-jobs.repository.ts';

export class RerunError extends Error {}

export interface RerunAsk {
  requestedBy: string;
  /** 'queued' for the server's report-jobs job (the Re-run button); 'running' for this process (dcs export rerun) */
  state: 'queued' | 'running';
  /** where a job of dcs export goes now (--out); otherwise the original's destinations */
  outFile?: string;
}

/** Queues (or starts) a job that runs job `id` again; throws RerunError with a message for people. */
export async function rerunExport(pool: Pool, id: number, ask: RerunAsk): Promise<ReportJob> {
  const original = await getReportJob(pool, id);
  if (!original) throw new RerunError(`There is no export job ${id}.`);
  if (original.batch?.startsWith('nightly:')) {
    const day = original.from ?? original.batch.slice('nightly:'.length);
    throw new RerunError(`Export job ${id} is part of the nightly export of ${day}; re-run that night with: dcs export nightly --from ${day} --to ${day}`);
  }
  if (original.state !== 'done' && original.state !== 'failed') throw new RerunError(`Export job ${id} is ${original.state}; re-run it once it is done or failed.`);
  const toFile = original.destinations.some((d) => d.startsWith('file:'));
  if (toFile && ask.state === 'queued') throw new RerunError(`Export job ${id} was written by dcs export to a file; re-run it with: dcs export rerun ${id}`);
  const destinations = ask.outFile ? [`file:${ask.outFile}`] : original.destinations;
  const sources = await resolveSources(pool, original.selection);
  if (sources.length === 0) throw new RerunError(`The sources of export job ${id} are no longer there: its selection holds no source now.`);
  const job = await insertReportJob(pool, {
    requestedBy: ask.requestedBy, selection: original.selection, sources, types: original.types, from: original.from ?? undefined,
    to: original.to ?? undefined, dateType: original.dateType, format: original.format, nameFolder: original.nameFolder,
    namePrefix: original.namePrefix, destinations, rerunOf: original.id,
  }, ask.state);
  return job!;
}
