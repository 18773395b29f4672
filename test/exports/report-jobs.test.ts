/**
 * Report jobs end to end on a real server and database: `dcs export` in a child process, the
 * queue (claim, heartbeat, crash pick-up, retry), the folder destination, and the nightly
 * export's naming, idempotency and catch-up.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { dueDay, queueDueNightlyExports, queueNightlyDay } from '../../src/exports/nightly.ts';
import { claimNextReportJob, getReportJob, insertReportJob, listReportJobs, retryReportJob } from '../../src/exports/report-jobs.repository.ts';
import { runReportJob } from '../../src/exports/run-report-job.ts';
import { reportJobsJob } from '../../src/exports/report-jobs.job.ts';
import { dayIn } from '../helpers/days.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { readZip, tempDir, tsvRows, uploadPoints } from './support.ts';

const exportDir = tempDir();
const server = useTestServer({ EXPORT_DIR: exportDir, PUBLIC_URL: 'https://data.example.org', TIME_ZONE: 'America/New_York', SOURCES_PER_REPORT_JOB: '2' });
const log = createLogger('silent');

/** A point of `source` received now (recorded) and created at `created`. */
function showPoint(source: string, created: Date) {
  const [point] = samples(2);
  const meta = point['passive-data-metadata']!;
  meta.source = source;
  meta.timestamp = created.getTime() / 1000;
  point.date = created.getTime();
  return point;
}

describe('dcs export', () => {
  it('writes the archive to --out, records the job, and exits 0', async () => {
    await uploadPoints(server, [showPoint('alpha', new Date('2024-03-01T12:00:00Z')), showPoint('beta', new Date('2024-03-02T12:00:00Z')), showPoint('beta', new Date('2024-03-05T12:00:00Z'))]);
    const out = path.join(tempDir(), 'nested', 'study.zip');
    const result = await runDcs(['export', '--types', 'webmunk-extension-element-show,webmunk-extension-action', '--sources', 'beta', '--from', '2024-03-01', '--to', '2024-03-03', '--out', out], { databaseUrl: server.db.url, env: { TIME_ZONE: 'America/New_York', EXPORT_DIR: exportDir } });
    expect(result.stderr).not.toMatch(/failed/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/export job \d+: 1 points/);
    const entries = await readZip(out);
    expect(entries.map((e) => e.name).sort()).toEqual(['README.txt', 'webmunk-extension-action.txt', 'webmunk-extension-element-show.txt']);
    const rows = tsvRows(entries.find((e) => e.name === 'webmunk-extension-element-show.txt')!.data);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([['beta', '2024-03-02T07:00:00-05:00']]);
    expect(entries.every((e) => e.method === 8)).toBe(true);
    const [job] = await listReportJobs(server.db.pool, 1);
    expect(job).toMatchObject({ requestedBy: 'cli', state: 'done', pointsWritten: 1, sources: ['beta'], from: '2024-03-01', to: '2024-03-03', storedAt: [out] });
    expect(job.fileBytes).toBe(fs.statSync(out).size);
    // nothing left behind in EXPORT_DIR's partial folder
    expect(fs.readdirSync(path.join(exportDir, '.partial'))).toEqual([]);
  });

  it('refuses bad arguments with a message and exit code 1, before writing anything', async () => {
    const out = path.join(tempDir(), 'x.zip');
    const cases: Array<[string[], RegExp]> = [
      [['export', '--out', out], /--types is required/],
      [['export', '--types', 'all'], /--out FILE.zip is required/],
      [['export', '--types', 'all', '--from', '2024-02-30', '--out', out], /The from date must be a day YYYY-MM-DD/],
      [['export', '--types', 'all', '--format', 'xlsx', '--out', out], /The format must be tsv, raw or parquet/],
      [['export', '--types', 'all', '--sources', 'nobody', '--out', out], /No data from source\(s\) nobody/],
      [['export', '--types', 'all', '--bogus', '--out', out], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = await runDcs(args, { databaseUrl: server.db.url });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--types all exports every type present, and a failure exits 1 and marks the job failed', async () => {
    const dir = tempDir();
    const ok = await runDcs(['export', '--types', 'all', '--out', path.join(dir, 'all.zip')], { databaseUrl: server.db.url });
    expect(ok.code).toBe(0);
    const names = (await readZip(path.join(dir, 'all.zip'))).map((e) => e.name);
    expect(names).toContain('webmunk-extension-element-show.txt');
    // --out into a path that is a directory cannot be written
    const failed = await runDcs(['export', '--types', 'all', '--out', dir], { databaseUrl: server.db.url });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/export job \d+ failed/);
    const [job] = await listReportJobs(server.db.pool, 1);
    expect(job.state).toBe('failed');
    expect(job.error).toBeTruthy();
  });
});

describe('the report-jobs queue', () => {
  const request = { requestedBy: 'ana', selection: { all: true } as const, sources: ['alpha', 'beta'], types: ['webmunk-extension-element-show'], dateType: 'created' as const, format: 'tsv' as const, namePrefix: 'export', destinations: ['folder'] };

  it('runs queued jobs into EXPORT_DIR under the original name, with progress and size', async () => {
    const job = (await insertReportJob(server.db.pool, request))!;
    expect(job.state).toBe('queued');
    const counts = await reportJobsJob.run({ pool: server.db.pool, config: server.config, log });
    expect(counts.done).toBeGreaterThanOrEqual(1);
    const done = (await getReportJob(server.db.pool, job.id))!;
    expect(done.state).toBe('done');
    expect(done.fileName).toMatch(new RegExp(`^export_${job.id}_\\d{4}-\\d{2}-\\d{2}\\.zip$`));
    expect(done.storedAt).toEqual([path.join(exportDir, done.fileName!)]);
    expect(done.pointsWritten).toBe(3);
    expect(done.fileBytes).toBe(fs.statSync(done.storedAt[0]).size);
    expect(done.attempts).toBe(1);
  });

  it('picks up a job whose runner died (stale heartbeat), but not one still beating', async () => {
    const job = (await insertReportJob(server.db.pool, request, 'running'))!;
    expect(await claimNextReportJob(server.db.pool, [job.id])).toBeUndefined();
    await server.db.pool.query(`UPDATE report_jobs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [job.id]);
    const claimed = await claimNextReportJob(server.db.pool, [job.id]);
    expect(claimed?.id).toBe(job.id);
    expect(claimed?.attempts).toBe(2);
    expect(await runReportJob({ pool: server.db.pool, config: server.config, log }, claimed!)).toBe('done');
  });

  it('marks a dead `dcs export` job failed instead of running it in the server', async () => {
    const job = (await insertReportJob(server.db.pool, { ...request, destinations: ['file:/tmp/never.zip'] }, 'running'))!;
    await server.db.pool.query(`UPDATE report_jobs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [job.id]);
    expect(await claimNextReportJob(server.db.pool, [job.id])).toBeUndefined();
    expect((await getReportJob(server.db.pool, job.id))!).toMatchObject({ state: 'failed', error: expect.stringMatching(/stopped before/) });
    expect(await retryReportJob(server.db.pool, job.id)).toBe(false);
  });

  it('fails a job with the error, and runs it again after a retry', async () => {
    // S3 wanted but not configured: the archive is written, the upload cannot happen.
    const job = (await insertReportJob(server.db.pool, { ...request, destinations: ['folder', 's3'] }))!;
    const claimed = (await claimNextReportJob(server.db.pool, [job.id]))!;
    expect(await runReportJob({ pool: server.db.pool, config: server.config, log }, claimed)).toBe('failed');
    const failed = (await getReportJob(server.db.pool, job.id))!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/EXPORT_S3_BUCKET is not set/);
    expect(await retryReportJob(server.db.pool, job.id)).toBe(true);
    expect((await getReportJob(server.db.pool, job.id))!.state).toBe('queued');
    await server.db.pool.query(`UPDATE report_jobs SET destinations = '{folder}' WHERE id = $1`, [job.id]);
    const again = (await claimNextReportJob(server.db.pool, [job.id]))!;
    expect(again.attempts).toBe(2);
    expect(await runReportJob({ pool: server.db.pool, config: server.config, log }, again)).toBe('done');
  });
});

describe('the nightly export', () => {
  it('is due the day before once NIGHTLY_EXPORT_TIME has passed in TIME_ZONE', () => {
    const config = { timeZone: 'America/New_York', nightlyExportTime: '09:30' };
    expect(dueDay(new Date('2024-03-10T14:29:00Z'), config)).toBe('2024-03-09'); // 10:29 EDT (DST began at 02:00)
    expect(dueDay(new Date('2024-03-10T13:29:00Z'), config)).toBe('2024-03-08'); // 09:29 EDT
    expect(dueDay(new Date('2024-03-09T14:31:00Z'), config)).toBe('2024-03-08'); // 09:31 EST
    expect(dueDay(new Date('2024-03-09T14:29:00Z'), config)).toBe('2024-03-07'); // 09:29 EST
  });

  it('queues a day once, in jobs of SOURCES_PER_REPORT_JOB sources, named <day>/<host>_<day>_<job>_<date>.zip', async () => {
    const pool = server.db.pool;
    await uploadPoints(server, ['gamma', 'delta', 'epsilon'].map((s) => showPoint(s, new Date())));
    await pool.query(`UPDATE data_sources SET suppress_alerts = true WHERE source = 'epsilon'`);
    const config = loadConfig({ ...envOf(server.config), NIGHTLY_EXPORT_EXCLUDE: 'delta' });
    const today = dayIn(config.timeZone);
    // alpha's points arrived two days ago: not in today's archive
    await pool.query(`UPDATE data_points SET recorded = recorded - interval '2 days' WHERE source = 'alpha'`);
    const jobs = await queueNightlyDay(pool, config, today);
    // alpha, beta, gamma (delta excluded, epsilon suppressed): descending in chunks of 2, each ascending
    expect(jobs.map((j) => j.sources)).toEqual([['beta', 'gamma'], ['alpha']]);
    expect(jobs.every((j) => j.dateType === 'recorded' && j.from === today && j.to === today && j.requestedBy === 'nightly')).toBe(true);
    expect(await queueNightlyDay(pool, config, today)).toEqual([]);
    for (const job of jobs) {
      const claimed = (await claimNextReportJob(pool, [job.id]))!;
      expect(await runReportJob({ pool, config, log }, claimed)).toBe('done');
    }
    const first = (await getReportJob(pool, jobs[0].id))!;
    expect(first.fileName).toBe(`${today}/data.example.org_${today}_${first.id}_${first.fileName!.slice(-14, -4)}.zip`);
    const entries = await readZip(first.storedAt[0]);
    const show = tsvRows(entries.find((e) => e.name === 'webmunk-extension-element-show.txt')!.data);
    expect(show.slice(1).map((r) => r[0])).toEqual(['beta', 'beta', 'gamma']);
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['webmunk-visibility-export.txt', 'webmunk-local-tasks.txt', 'README.txt']));
    const alpha = await readZip((await getReportJob(pool, jobs[1].id))!.storedAt[0]);
    expect(tsvRows(alpha.find((e) => e.name === 'webmunk-extension-element-show.txt')!.data)).toHaveLength(1); // header only
  });

  it('catches up missed days on its next run and is idempotent', async () => {
    const pool = server.db.pool;
    await pool.query(`DELETE FROM report_jobs WHERE batch LIKE 'nightly:%'`);
    await pool.query(`INSERT INTO report_jobs (requested_by, batch, sequence, selection, sources, types, date_type, format, name_prefix, destinations, state)
      VALUES ('nightly', 'nightly:2024-05-01', 1, '{"all":true}', '{}', '{}', 'recorded', 'tsv', 'x', '{folder}', 'done')`);
    const now = new Date('2024-05-04T15:00:00Z'); // 11:00 in New York: 2024-05-03 is due
    expect(await queueDueNightlyExports(pool, server.config, now)).toEqual(['2024-05-02', '2024-05-03']);
    expect(await queueDueNightlyExports(pool, server.config, now)).toEqual([]);
  });
});

describe('dcs export nightly --date', () => {
  it('exports the day before the date again in the night\'s own jobs, replacing its archives under their names, however often it runs', async () => {
    const pool = server.db.pool;
    // the command runs in UTC (no TIME_ZONE given), so its days are UTC days
    const today = dayIn('UTC');
    const tomorrow = dayIn('UTC', 1);
    const env = { EXPORT_DIR: exportDir, PUBLIC_URL: 'https://data.example.org', SOURCES_PER_REPORT_JOB: '2' };
    await pool.query(`DELETE FROM report_jobs WHERE batch LIKE 'nightly:%'`);
    await uploadPoints(server, ['night-a', 'night-b', 'night-c'].map((source) => showPoint(source, new Date())));
    const folder = path.join(exportDir, today);
    fs.rmSync(folder, { recursive: true, force: true });
    const rerun = async () => {
      const result = await runDcs(['export', 'nightly', '--date', tomorrow], { databaseUrl: server.db.url, env });
      expect(result.stderr).toContain(`exporting ${today} (received that day)`);
      expect(result.code).toBe(0);
      return { jobs: (await listReportJobs(pool, 1000)).filter((job) => job.batch?.startsWith('nightly:')), stdout: result.stdout };
    };
    const first = await rerun();
    expect(first.jobs.length).toBeGreaterThan(1);
    expect(first.jobs.every((job) => job.state === 'done' && job.from === today && job.batch === `nightly:${today}`)).toBe(true);
    expect(first.stdout.trim().split('\n')).toHaveLength(first.jobs.length);
    const names = first.jobs.map((job) => job.fileName).sort();
    expect(fs.readdirSync(folder).map((name) => `${today}/${name}`).sort()).toEqual(names);

    // a point arrives late for that night; the re-run writes it into the same files
    const late = new Date('2020-02-02T12:00:00Z');
    await uploadPoints(server, [showPoint('night-b', late)]);
    const second = await rerun();
    expect(second.jobs.map((job) => [job.id, job.fileName, job.state])).toEqual(first.jobs.map((job) => [job.id, job.fileName, 'done']));
    expect(fs.readdirSync(folder).map((name) => `${today}/${name}`).sort()).toEqual(names);
    const withBeta = second.jobs.find((job) => job.sources.includes('night-b'))!;
    const show = tsvRows((await readZip(withBeta.storedAt[0])).find((e) => e.name === 'webmunk-extension-element-show.txt')!.data);
    expect(show.slice(1).map((row) => row[1])).toContain('2020-02-02T07:00:00-05:00');

    // the scheduled job finds the night queued and adds nothing
    expect(await queueNightlyDay(pool, server.config, today)).toEqual([]);
    expect((await listReportJobs(pool, 1000)).filter((job) => job.batch?.startsWith('nightly:'))).toHaveLength(second.jobs.length);
    expect((await runDcs(['export', 'nightly'], { databaseUrl: server.db.url })).stderr).toMatch(/--date YYYY-MM-DD is required/);
  });

  it('refuses to re-run a night while one of its jobs runs', async () => {
    const pool = server.db.pool;
    const today = dayIn(server.config.timeZone);
    const [job] = await queueNightlyDay(pool, server.config, today, { rerun: true });
    await pool.query(`UPDATE report_jobs SET state = 'running', heartbeat_at = now() WHERE id = $1`, [job.id]);
    const tomorrow = dayIn(server.config.timeZone, 1);
    const env = { EXPORT_DIR: exportDir, SOURCES_PER_REPORT_JOB: '2', TIME_ZONE: server.config.timeZone };
    const result = await runDcs(['export', 'nightly', '--date', tomorrow], { databaseUrl: server.db.url, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Job ${job.id} of the ${today} export is running now`);
    await pool.query(`UPDATE report_jobs SET state = 'done' WHERE id = $1`, [job.id]);
  });
});

describe('dcs export nightly --from --to', () => {
  it('re-runs each night of those days of data (by Date Recorded), replacing its files and listing each one replaced', async () => {
    const pool = server.db.pool;
    const env = { EXPORT_DIR: exportDir, PUBLIC_URL: 'https://data.example.org', SOURCES_PER_REPORT_JOB: '2', TIME_ZONE: 'America/New_York' };
    // points received on two past days (noon in New York), and one the day after
    await uploadPoints(server, ['range-a', 'range-b', 'range-c'].map((source) => showPoint(source, new Date('2021-06-01T12:00:00Z'))));
    await pool.query(`UPDATE data_points SET recorded = CASE source WHEN 'range-b' THEN '2021-06-02T16:00:00Z'::timestamptz ELSE '2021-06-01T16:00:00Z'::timestamptz END WHERE source LIKE 'range-%'`);
    const nightFiles = (day: string) => fs.readdirSync(path.join(exportDir, day)).map((name) => path.join(exportDir, day, name)).sort();
    const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const showRows = (file: string) => readZip(file).then((entries) => tsvRows(entries.find((e) => e.name === 'webmunk-extension-element-show.txt')!.data).slice(1).map((row) => row[0]));

    const first = await runDcs(['export', 'nightly', '--from', '2021-06-01', '--to', '2021-06-02'], { databaseUrl: server.db.url, env });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('exporting 2021-06-01 (received that day)');
    expect(first.stderr).toContain('exporting 2021-06-02 (received that day)');
    expect(first.stderr).not.toContain('replaced');
    const night1 = nightFiles('2021-06-01');
    const night2 = nightFiles('2021-06-02');
    expect(night1.length).toBeGreaterThan(0);
    expect((await Promise.all(night1.map(showRows))).flat().sort()).toEqual(['range-a', 'range-c']);
    expect((await Promise.all(night2.map(showRows))).flat()).toEqual(['range-b']);
    const before = new Map([...night1, ...night2].map((file) => [file, sha(file)]));

    // range-c's point turns out to have arrived on the second day: both nights re-run
    await pool.query(`UPDATE data_points SET recorded = '2021-06-02T16:00:00Z' WHERE source = 'range-c'`);
    const second = await runDcs(['export', 'nightly', '--from', '2021-06-01', '--to', '2021-06-02'], { databaseUrl: server.db.url, env });
    expect(second.code).toBe(0);
    expect(nightFiles('2021-06-01')).toEqual(night1);
    expect(nightFiles('2021-06-02')).toEqual(night2);
    for (const file of [...night1, ...night2]) expect(second.stderr).toContain(`replaced ${file}`);
    expect((await Promise.all(night1.map(showRows))).flat()).toEqual(['range-a']);
    expect((await Promise.all(night2.map(showRows))).flat().sort()).toEqual(['range-b', 'range-c']);
    expect([...before].filter(([file, hash]) => sha(file) !== hash).length).toBeGreaterThan(0);

    // the same data again: every file the same bytes as the run before
    const after = new Map([...night1, ...night2].map((file) => [file, sha(file)]));
    expect((await runDcs(['export', 'nightly', '--from', '2021-06-01', '--to', '2021-06-02'], { databaseUrl: server.db.url, env })).code).toBe(0);
    expect(new Map([...after.keys()].map((file) => [file, sha(file)]))).toEqual(after);

    const refused: Array<[string[], RegExp]> = [
      [['export', 'nightly', '--from', '2021-06-03', '--to', '2021-06-01'], /--from 2021-06-03 is after --to 2021-06-01/],
      [['export', 'nightly', '--from', '2021-02-30'], /--from must be a day YYYY-MM-DD/],
      [['export', 'nightly', '--date', '2021-06-02', '--from', '2021-06-01'], /give --date, or --from and --to, not both/],
    ];
    for (const [args, message] of refused) {
      const result = await runDcs(args, { databaseUrl: server.db.url, env });
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(1);
    }
  });
});

function envOf(config: typeof server.config): Record<string, string> {
  return { DATABASE_URL: server.db.url, TIME_ZONE: config.timeZone, PUBLIC_URL: config.publicUrl, EXPORT_DIR: config.exportDir, SOURCES_PER_REPORT_JOB: String(config.sourcesPerReportJob) };
}
