/**
 * `dcs exclusions edit` (issue 21 §2): an option not given keeps its value, an empty one clears
 * that condition, a given one replaces it; the result must still make a rule, or nothing changes;
 * a removed rule stays removed; the history keeps every version. An edited rule changes what the
 * next export leaves out.
 */
import { describe, expect, it } from 'vitest';
import { ruleHistory } from '../../src/data-quality/exclusion-rules.repository.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, tsvRows, uploadPoints } from '../exports/support.ts';

const server = useTestServer();
const dcs = (...args: string[]) => runDcs(['exclusions', ...args], { databaseUrl: server.db.url });

async function stored(id: number) {
  const { rows } = await server.db.pool.query(
    'SELECT source, group_name, user_agent_pattern, generator_id, created_from, created_to, reason, enabled, updated_by FROM exclusion_rules WHERE id = $1', [id]);
  return rows[0];
}

async function add(...args: string[]): Promise<number> {
  const added = await dcs('add', ...args);
  expect(added.code, added.stderr).toBe(0);
  return Number(/^rule (\d+)/.exec(added.stdout)![1]);
}

describe('dcs exclusions edit', () => {
  it('keeps the options not given, clears the empty ones, replaces the others, and records each version', async () => {
    const id = await add('--source', 'dev-01', '--type', 'webmunk-history-visit', '--from', '2026-01-01', '--reason', 'test install', '--by', 'ana');

    const typeCleared = await dcs('edit', String(id), '--type', '', '--to', '2026-02-01T12:30:00Z', '--by', 'bo');
    expect(typeCleared.code, typeCleared.stderr).toBe(0);
    expect(typeCleared.stdout).toMatch(new RegExp(`^rule ${id} edited:\n +${id}  in force  source "dev-01", created 2026-01-01T00:00:00.000Z to 2026-02-01T12:30:00.000Z\n`
      + ' +"test install", by ana [^,]+, last changed by bo '));
    expect(await stored(id)).toMatchObject({
      source: 'dev-01', group_name: null, user_agent_pattern: null, generator_id: null, reason: 'test install', enabled: true, updated_by: 'bo',
      created_from: new Date('2026-01-01T00:00:00Z'), created_to: new Date('2026-02-01T12:30:00Z'),
    });

    // a removed rule can be edited and stays removed
    expect((await dcs('remove', String(id))).code).toBe(0);
    const changed = await dcs('edit', String(id), '--source', 'dev-02', '--from', '', '--reason', 'second test install');
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain(`rule ${id} edited (still removed: dcs exclusions enable brings it back):`);
    expect(changed.stdout).toContain(`removed   source "dev-02", created any time to 2026-02-01T12:30:00.000Z`);
    expect(await stored(id)).toMatchObject({ source: 'dev-02', created_from: null, reason: 'second test install', enabled: false, updated_by: 'dcs exclusions' });

    const history = await ruleHistory(server.db.pool, id);
    expect(history.map((change) => [change.action, change.rule.source, change.rule.generatorId, change.rule.reason, change.rule.enabled])).toEqual([
      ['created', 'dev-01', 'webmunk-history-visit', 'test install', true],
      ['edited', 'dev-01', null, 'test install', true],
      ['disabled', 'dev-01', null, 'test install', false],
      ['edited', 'dev-02', null, 'second test install', false],
    ]);
    expect(history[1].rule.createdTo).toEqual(new Date('2026-02-01T12:30:00Z'));
    expect((await dcs('list')).stdout).toContain(`removed   source "dev-02"`);
  });

  it('refuses an edit that leaves no condition or has a bad pattern, an unknown rule, or nothing to change, and changes nothing', async () => {
    const id = await add('--source', 'dev-03', '--reason', 'test install');
    const before = await stored(id);
    for (const [args, message] of [
      [['--source', ''], /at least one condition/],
      [['--user-agent', '(Headless'], /not a regular expression/],
      [[], /Nothing to change/],
    ] as const) {
      const result = await dcs('edit', String(id), ...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect(await stored(id)).toEqual(before);
    expect((await ruleHistory(server.db.pool, id)).map((change) => change.action)).toEqual(['created']);
    const unknown = await dcs('edit', '999999', '--type', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No rule 999999');
    const help = await dcs('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('dcs exclusions edit ID');
  });

  it('changes what an export leaves out when a rule\'s data type is edited', async () => {
    const SCROLL = 'webmunk-extension-scroll-position';
    const CLICK = 'webmunk-extension-element-click';
    const point = ([p]: Point[], timestamp: number) => {
      p['passive-data-metadata']!.source = 'p-300';
      p['passive-data-metadata']!.timestamp = timestamp;
      return p;
    };
    await uploadPoints(server, [point(samples(5), 1764000000), point(samples(5), 1764000100), point(samples(4), 1764000200)]);
    const rowsPerType = async () => {
      const archive = await exportArchive(server, { types: [SCROLL, CLICK], sources: ['p-300'] });
      return [SCROLL, CLICK].map((type) => tsvRows(archive.get(`${type}.txt`)!.data).length - 1);
    };
    expect(await rowsPerType()).toEqual([2, 1]);
    const id = await add('--source', 'p-300', '--type', SCROLL, '--reason', 'scrolls recorded twice in 2.1.0');
    expect(await rowsPerType()).toEqual([0, 1]);
    const edited = await dcs('edit', String(id), '--type', CLICK);
    expect(edited.code, edited.stderr).toBe(0);
    expect(await rowsPerType()).toEqual([2, 0]);
  });
});
