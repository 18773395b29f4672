/**
 * Exclusion rules in exports (issue 21 §2): a rule made with `dcs exclusions add` leaves its
 * points out of every file, README.txt says which rules were in force and what each removed per
 * type and source, excluded-points.txt lists the keys, and removing the rule brings them back.
 * Nothing is deleted.
 */
import { describe, expect, it } from 'vitest';
import { runDcs } from '../helpers/dcs.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, tsvRows, uploadPoints } from '../exports/support.ts';

const server = useTestServer();

function point(index: number, source: string, timestamp: number): Point {
  const [p] = samples(index);
  p['passive-data-metadata']!.source = source;
  p['passive-data-metadata']!.timestamp = timestamp;
  return p;
}

const TYPE = 'webmunk-extension-scroll-position';
/** A time as excluded-points.txt writes it: UTC with microseconds. */
const utc = (seconds: number) => new Date(seconds * 1000).toISOString().replace('Z', '000Z');
const exportNow = () => exportArchive(server, { types: [TYPE], sources: ['p-100', 'dev-01', 'p-200'] });
const sourcesIn = (tsv: Buffer) => [...new Set(tsvRows(tsv).slice(1).map((row) => row[0]))].sort();

describe('dcs exclusions and exports', () => {
  it('leaves a rule\'s points out, says so in README.txt and excluded-points.txt, and brings them back when the rule is removed', async () => {
    await uploadPoints(server, [
      point(5, 'p-100', 1764000000), point(5, 'p-100', 1764000100),
      point(5, 'dev-01', 1764000200), point(5, 'dev-01', 1764000300), point(5, 'dev-01', 1764000400),
      // p-200's clock ran ahead: one point in 2029, excluded by a time window
      point(5, 'p-200', 1764000500), point(5, 'p-200', 1869000000),
    ]);
    await server.process();
    const before = await exportNow();
    const file = `${TYPE}.txt`;
    expect(sourcesIn(before.get(file)!.data)).toEqual(['dev-01', 'p-100', 'p-200']);
    expect(before.get('README.txt')!.data.toString()).toContain('No exclusion rule was in force');
    expect(before.has('excluded-points.txt')).toBe(false);

    const env = { databaseUrl: server.db.url };
    const added = await runDcs(['exclusions', 'add', '--source', 'dev-01', '--reason', 'the team\'s test install', '--by', 'ana'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^rule (\d+) in force: source "dev-01"/);
    const future = await runDcs(['exclusions', 'add', '--source', 'p-200', '--from', '2027-01-01', '--reason', 'clock years ahead'], env);
    expect(future.code, future.stderr).toBe(0);
    const [devRule, futureRule] = [added.stdout, future.stdout].map((out) => Number(/^rule (\d+)/.exec(out)![1]));

    const after = await exportNow();
    const rows = tsvRows(after.get(file)!.data).slice(1);
    expect(sourcesIn(after.get(file)!.data)).toEqual(['p-100', 'p-200']);
    expect(rows).toHaveLength(3);
    const readme = after.get('README.txt')!.data.toString();
    expect(readme).toContain(`Rule ${devRule} (source "dev-01"): "the team's test install"; removed 3 points\r\n  ${TYPE}\r\n    "dev-01"\t3`);
    expect(readme).toContain(`Rule ${futureRule} (source "p-200", created 2027-01-01T00:00:00.000Z to now): "clock years ahead"; removed 1 points`);
    const excluded = after.get('excluded-points.txt')!.data.toString().split('\n').filter(Boolean).map((line) => line.split('\t'));
    expect(excluded[0]).toEqual(['source', 'generator', 'created', 'recorded', 'rules']);
    expect(excluded.slice(1).map(([source, type, created, , ruleIds]) => [source, type, created, ruleIds])).toEqual([
      ['dev-01', TYPE, utc(1764000200), String(devRule)],
      ['dev-01', TYPE, utc(1764000300), String(devRule)],
      ['dev-01', TYPE, utc(1764000400), String(devRule)],
      ['p-200', TYPE, utc(1869000000), String(futureRule)],
    ]);
    // nothing was deleted
    const { rows: stored } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE generator_id = $1`, [TYPE]);
    expect(stored[0].n).toBe(7);

    const listed = await runDcs(['exclusions', 'list'], env);
    expect(listed.stdout).toContain('in force  source "dev-01"');
    const removed = await runDcs(['exclusions', 'remove', String(devRule), '--by', 'bo'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await runDcs(['exclusions', 'remove', String(devRule)], env)).code).toBe(1);
    const again = await exportNow();
    expect(sourcesIn(again.get(file)!.data)).toEqual(['dev-01', 'p-100', 'p-200']);
    expect(tsvRows(again.get(file)!.data).slice(1)).toHaveLength(6);
    const { rows: history } = await server.db.pool.query('SELECT action, changed_by FROM exclusion_rule_history WHERE rule_id = $1 ORDER BY changed_at', [devRule]);
    expect(history).toEqual([{ action: 'created', changed_by: 'ana' }, { action: 'disabled', changed_by: 'bo' }]);
  });

  it('refuses a rule without a condition, without a reason, or with a pattern PostgreSQL cannot read', async () => {
    const env = { databaseUrl: server.db.url };
    for (const args of [['--reason', 'x'], ['--source', 'a'], ['--user-agent', '(unclosed', '--reason', 'x'], ['--source', 'a', '--from', '2026-02-01', '--to', '2026-01-01', '--reason', 'x']]) {
      const result = await runDcs(['exclusions', 'add', ...args], env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/condition|reason|regular expression|ends before/);
    }
  });
});
