/**
 * Re-running a report with today's rules (issue 21 §3, §5): with the same rules and data the
 * archive is byte-identical, README.txt and excluded-points.txt included; a rule made since
 * changes it; removing the rule gives the first archive's bytes back.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { addRule, setRuleEnabled } from '../../src/data-quality/exclusion-rules.repository.ts';
import { listReportJobs } from '../../src/exports/report-jobs.repository.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { readZip, tempDir, uploadPoints } from '../exports/support.ts';

const exportDir = tempDir();
const env = { TIME_ZONE: 'America/New_York', EXPORT_DIR: exportDir };
const server = useTestServer(env);
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function point(source: string, created: string) {
  const [p] = samples(2);
  p['passive-data-metadata']!.source = source;
  p['passive-data-metadata']!.timestamp = Date.parse(created) / 1000;
  p.date = Date.parse(created);
  return p;
}

it('re-runs a report to the same bytes with the same rules, to other bytes with a new rule, and back', async () => {
  await uploadPoints(server, [point('ex-a', '2024-05-01T12:00:00Z'), point('dev-02', '2024-05-02T12:00:00Z'), point('dev-02', '2024-05-03T12:00:00Z')]);
  const dcs = (args: string[]) => runDcs(args, { databaseUrl: server.db.url, env });
  const first = path.join(tempDir(), 'first.zip');
  const rule = await addRule(server.db.pool, { source: 'dev-02', reason: 'test install' }, 'ana');
  expect((await dcs(['export', '--types', 'webmunk-extension-element-show', '--from', '2024-05-01', '--to', '2024-05-31', '--out', first])).code).toBe(0);
  const [original] = await listReportJobs(server.db.pool, 1);
  const rerun = async () => {
    const file = path.join(tempDir(), 'again.zip');
    const result = await dcs(['export', 'rerun', String(original.id), '--out', file]);
    expect(result.code, result.stderr).toBe(0);
    return file;
  };
  const same = await rerun();
  expect(sha256(same)).toBe(sha256(first));
  const names = (await readZip(same)).map((entry) => entry.name);
  expect(names).toContain('excluded-points.txt');

  await setRuleEnabled(server.db.pool, rule, false, 'ana');
  const without = await rerun();
  expect(sha256(without)).not.toBe(sha256(first));
  expect((await readZip(without)).map((entry) => entry.name)).not.toContain('excluded-points.txt');
  await setRuleEnabled(server.db.pool, rule, true, 'ana');
  expect(sha256(await rerun())).toBe(sha256(first));
});
