/**
 * `dcs export rerun JOB` (issue 21 §3) in a child process: a new job with the original's request,
 * linked to it, whose archive has the original's bytes on the same data and other bytes once the
 * data changed; refusals say why.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getReportJob, listReportJobs } from '../../src/exports/report-jobs.repository.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { tempDir, uploadPoints } from './support.ts';

const exportDir = tempDir();
const server = useTestServer({ EXPORT_DIR: exportDir, TIME_ZONE: 'America/New_York' });
const env = { TIME_ZONE: 'America/New_York', EXPORT_DIR: exportDir };
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function showPoint(source: string, created: string) {
  const [point] = samples(2);
  point['passive-data-metadata']!.source = source;
  point['passive-data-metadata']!.timestamp = Date.parse(created) / 1000;
  point.date = Date.parse(created);
  return point;
}

describe('dcs export rerun', () => {
  it('runs a job again as a new job linked to it: the same bytes on the same data, other bytes after a change', async () => {
    await uploadPoints(server, [showPoint('re-a', '2024-05-01T12:00:00Z'), showPoint('re-b', '2024-05-02T12:00:00Z')]);
    const first = path.join(tempDir(), 'first.zip');
    const dcs = (args: string[]) => runDcs(args, { databaseUrl: server.db.url, env });
    const exported = await dcs(['export', '--types', 'webmunk-extension-element-show', '--from', '2024-05-01', '--to', '2024-05-31', '--out', first]);
    expect(exported.code).toBe(0);
    const [original] = await listReportJobs(server.db.pool, 1);

    const again = path.join(tempDir(), 'again.zip');
    const rerun = await dcs(['export', 'rerun', String(original.id), '--out', again]);
    expect(rerun.stderr).toContain(`re-runs job ${original.id}`);
    expect(rerun.code).toBe(0);
    const [job] = await listReportJobs(server.db.pool, 1);
    expect(job).toMatchObject({ rerunOf: original.id, state: 'done', requestedBy: 'cli', selection: { all: true }, sources: ['re-a', 're-b'], types: original.types, from: '2024-05-01', to: '2024-05-31', storedAt: [again] });
    expect(sha256(again)).toBe(sha256(first));

    // a point arrives late in the window; without --out the job's own file is written again
    await uploadPoints(server, [showPoint('re-b', '2024-05-20T12:00:00Z')]);
    const third = await dcs(['export', 'rerun', String(original.id)]);
    expect(third.code).toBe(0);
    const [late] = await listReportJobs(server.db.pool, 1);
    expect(late).toMatchObject({ rerunOf: original.id, state: 'done', pointsWritten: 3, storedAt: [first] });
    expect(sha256(first)).not.toBe(sha256(again));
    expect((await getReportJob(server.db.pool, original.id))!.pointsWritten).toBe(2);
  });

  it('refuses with a message: no such job, one not finished, a nightly job (re-run by night), no job number', async () => {
    const pool = server.db.pool;
    const insert = async (state: string, batch: string | null) => Number((await pool.query(
      `INSERT INTO report_jobs (requested_by, selection, sources, types, date_type, format, name_prefix, destinations, state, batch, sequence, date_from, date_to)
       VALUES ('x', '{"all":true}', '{re-a}', '{webmunk-extension-action}', 'recorded', 'tsv', 'export', '{folder}', $1, $2, CASE WHEN $2::text IS NULL THEN NULL ELSE 1 END, '2024-05-03', '2024-05-03') RETURNING id`,
      [state, batch],
    )).rows[0].id);
    const running = await insert('running', null);
    const nightly = await insert('done', 'nightly:2024-05-03');
    const cases: Array<[string[], RegExp]> = [
      [['export', 'rerun', '999999'], /There is no export job 999999\./],
      [['export', 'rerun', String(running)], new RegExp(`Export job ${running} is running; re-run it once it is done or failed\\.`)],
      [['export', 'rerun', String(nightly)], /part of the nightly export of 2024-05-03; re-run that night with: dcs export nightly --from 2024-05-03 --to 2024-05-03/],
      [['export', 'rerun'], /give the number of one export job/],
      [['export', 'rerun', 'abc'], /give the number of one export job/],
    ];
    const before = (await listReportJobs(pool, 1000)).length;
    for (const [args, message] of cases) {
      const result = await runDcs(args, { databaseUrl: server.db.url, env });
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.code).toBe(1);
    }
    expect(await listReportJobs(pool, 1000)).toHaveLength(before);
  });
});
