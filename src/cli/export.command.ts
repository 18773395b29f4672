/**
 * `dcs export`: an export archive written by this process, for scripts and for exports too big
 * to wait for in a browser. The job is recorded like any other (it shows on the Export page),
 * with a progress bar on a terminal. `dcs export rerun JOB` runs a job again as a new job;
 * `dcs export nightly --from D --to D` re-runs nightly exports.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { addDays, NightlyRerunError, queueNightlyDay } from '../exports/nightly.ts';
import { claimNextReportJob, getReportJob, type ReportJob } from '../exports/report-jobs.repository.ts';
import { ExportRequestError, isDay, requestExport } from '../exports/request-export.ts';
import { RerunError, rerunExport } from '../exports/rerun-export.ts';
import { runReportJob } from '../exports/run-report-job.ts';
import type { ExportProgress } from '../exports/write-export.ts';

export const EXPORT_USAGE = `Usage:
  dcs export --types T1,T2|all [--sources S1,S2 | --groups G1,G2] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
             [--date-type created|recorded] [--format tsv|raw|parquet] --out FILE.zip
  dcs export rerun JOB [--out FILE.zip]   run export job JOB again as a new job, here and now (same
                                           types, sources, days and format; --out for a job of
                                           dcs export, else its file is written again)
  dcs export nightly --from DAY [--to DAY]  re-run the nightly exports of the days of data DAY
                                           (YYYY-MM-DD, by Date Recorded) to DAY, both included; each
                                           night's archives (EXPORT_DIR and S3) are replaced under
                                           their names, and each file replaced is listed
  dcs export nightly --date YYYY-MM-DD     the same for the night whose export ran on that
                                           morning: it exports the day before (as the original)`;

interface Deps {
  pool: Pool;
  /** DATABASE_READ_URL's pool when set: the archive's reads go there */
  readPool?: Pool;
  config: Config;
  log: Logger;
}

const list = (text: string | undefined) => (text ?? '').split(',').map((t) => t.trim()).filter(Boolean);

class UsageError extends Error {}

/** Draws a bar on a terminal; elsewhere (logs, CI) prints a line now and then. */
function progressReporter() {
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: ' {bar} {percentage}% | type {type} | {points} points | {rate} points/s', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p: ExportProgress) {
        const total = Math.max(1, p.typesTotal * Math.max(1, p.sourcesTotal));
        const value = p.typesDone * Math.max(1, p.sourcesTotal) + Math.min(p.sourcesDone, p.sourcesTotal);
        const payload = { type: `${Math.min(p.typesDone + 1, p.typesTotal)}/${p.typesTotal}`, points: p.points.toLocaleString('en'), rate: Math.round(p.points / Math.max(0.001, (Date.now() - started) / 1000)).toLocaleString('en') };
        if (!begun) bar.start(total, value, payload);
        else bar.update(value, payload);
        begun = true;
      },
      stop: () => bar.stop(),
    };
  }
  let lastLine = 0;
  return {
    update(p: ExportProgress) {
      if (Date.now() - lastLine < 10_000) return;
      lastLine = Date.now();
      console.error(`exported ${p.points} points, ${p.typesDone}/${p.typesTotal} types`);
    },
    stop: () => undefined,
  };
}

async function runWithProgress(deps: Deps, job: ReportJob): Promise<boolean> {
  const reporter = progressReporter();
  const started = Date.now();
  const replaced: string[] = [];
  const outcome = await runReportJob({ ...deps, onProgress: (p) => reporter.update(p), onReplaced: (place) => replaced.push(place) }, job);
  reporter.stop();
  for (const place of replaced) console.error(`replaced ${place}`);
  const seconds = (Date.now() - started) / 1000;
  const finished = await getReportJob(deps.pool, job.id);
  if (outcome === 'failed') {
    console.error(`export job ${job.id} failed: ${finished?.error}`);
    return false;
  }
  console.log(`export job ${job.id}: ${finished?.pointsWritten} points in ${seconds.toFixed(1)} s (${finished?.fileBytes} bytes) -> ${finished?.storedAt.join(', ')}`);
  return true;
}

export async function exportCommand(deps: Deps, args: string[]): Promise<number> {
  try {
    if (args[0] === 'nightly') return await nightlyRerun(deps, args.slice(1));
    if (args[0] === 'rerun') return await rerunJob(deps, args.slice(1));
    return await exportOnce(deps, args);
  } catch (error) {
    if (error instanceof ExportRequestError || error instanceof NightlyRerunError || error instanceof RerunError) {
      console.error(error.message);
      return 1;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${EXPORT_USAGE}`);
      return 1;
    }
    throw error;
  }
}

async function exportOnce(deps: Deps, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      types: { type: 'string' }, sources: { type: 'string' }, groups: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      'date-type': { type: 'string', default: 'created' }, format: { type: 'string', default: 'tsv' }, out: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  if (!values.types) throw new UsageError('--types is required (a comma-separated list, or all)');
  if (!values.out) throw new UsageError('--out FILE.zip is required');
  if (values.sources && values.groups) throw new UsageError('give --sources or --groups, not both');
  const job = await requestExport(deps.pool, {
    requestedBy: 'cli',
    types: values.types === 'all' ? 'all' : list(values.types),
    selection: values.sources ? { sources: list(values.sources) } : values.groups ? { groups: list(values.groups) } : { all: true },
    from: values.from, to: values.to, dateType: values['date-type']!, format: values.format!,
    destinations: [`file:${path.resolve(values.out)}`],
  }, 'running');
  return (await runWithProgress(deps, job)) ? 0 : 1;
}

async function rerunJob(deps: Deps, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true, allowPositionals: true });
  if (positionals.length !== 1 || !/^[1-9]\d{0,15}$/.test(positionals[0])) throw new UsageError('give the number of one export job (the Job column of the Export page)');
  const job = await rerunExport(deps.pool, Number(positionals[0]), { requestedBy: 'cli', state: 'running', outFile: values.out && path.resolve(values.out) });
  console.error(`export job ${job.id} re-runs job ${job.rerunOf}`);
  return (await runWithProgress(deps, job)) ? 0 : 1;
}

async function nightlyRerun(deps: Deps, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { date: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const days = nightlyDays(values);
  let ok = true;
  for (const day of days) ok = (await rerunNight(deps, day)) && ok;
  return ok ? 0 : 1;
}

/** The days of data to re-run: --from to --to (days of data), or the day before --date (the morning it ran). */
function nightlyDays(values: { date?: string; from?: string; to?: string }): string[] {
  if (values.date !== undefined) {
    if (values.from !== undefined || values.to !== undefined) throw new UsageError('give --date, or --from and --to, not both');
    if (!isDay(values.date)) throw new UsageError('--date YYYY-MM-DD is required');
    return [addDays(values.date, -1)];
  }
  if (values.from === undefined) throw new UsageError('--from YYYY-MM-DD or --date YYYY-MM-DD is required');
  const to = values.to ?? values.from;
  for (const [name, day] of [['--from', values.from], ['--to', to]]) {
    if (!isDay(day)) throw new UsageError(`${name} must be a day YYYY-MM-DD (got "${day}")`);
  }
  if (values.from > to) throw new UsageError(`--from ${values.from} is after --to ${to}`);
  const days: string[] = [];
  for (let day = values.from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/** One night again: its jobs queued again (the same rows and names) and run here. */
async function rerunNight(deps: Deps, day: string): Promise<boolean> {
  const jobs = await queueNightlyDay(deps.pool, deps.config, day, { rerun: true });
  console.error(`exporting ${day} (received that day) in ${jobs.length} job(s)`);
  let ok = true;
  const ids = jobs.map((job) => job.id);
  for (let job = await claimNextReportJob(deps.pool, ids); job; job = await claimNextReportJob(deps.pool, ids)) {
    ok = (await runWithProgress(deps, job)) && ok;
  }
  return ok;
}
