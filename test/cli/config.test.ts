/** `dcs config export | import | assign | list` as an operator runs them, in child processes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runDcs } from '../helpers/dcs.ts';

let db: TestDatabase;
let dir: string;
const dcs = (args: string[]) => runDcs(['config', ...args], { databaseUrl: db.url });
const write = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
};
const versions = async () => (await db.pool.query('SELECT c.name, v.version, v.saved_by FROM app_configuration_versions v JOIN app_configurations c ON c.id = v.configuration_id ORDER BY 1, 2')).rows;

const STUDY = [
  { name: 'pilot', idPattern: 'pilot-[0-9]+', contextPattern: '.*', order: 1, enabled: true, configuration: { ui: [{ title: 'Pilot' }], passive_data_kit: { endpoint: '', enabled: true }, '10': 'ten', a: 1 } },
  { name: 'control', idPattern: 'P[0-9]{8}', contextPattern: '.*', order: 2, enabled: true, weight: 1, configuration: { ui: [], history: { enabled: false } } },
  { name: 'treatment', idPattern: 'P[0-9]{8}', contextPattern: 'default|main', order: 3, enabled: false, weight: 3, configuration: { ui: [], history: { enabled: true } } },
];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-config-cli-'));
});
afterAll(async () => {
  await db.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dcs config', () => {
  it('imports a file, and exports it back as it was', async () => {
    const imported = await dcs(['import', write('study.json', STUDY)]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('created 3 (pilot, control, treatment), updated 0, unchanged 0\n');
    const exported = await dcs(['export', path.join(dir, 'out.json')]);
    expect(exported.stdout).toBe(`exported 3 configurations to ${path.join(dir, 'out.json')}\n`);
    const text = fs.readFileSync(path.join(dir, 'out.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(STUDY);
    expect(text).toMatch(/^\[\n {2}\{\n {4}"name": "pilot",/);

    const again = await dcs(['import', path.join(dir, 'out.json')]);
    expect(again.stdout).toBe('created 0, updated 0, unchanged 3\n');
    expect((await versions()).map((v) => v.version)).toEqual([1, 1, 1]);
    expect((await versions())[0].saved_by).toMatch(/^cli:/);
  });

  it('makes a new version of each changed entry only', async () => {
    const changed = structuredClone(STUDY);
    changed[2].enabled = true;
    const result = await dcs(['import', write('changed.json', changed)]);
    expect(result.stdout).toBe('created 0, updated 1 (treatment), unchanged 2\n');
    expect((await versions()).map((v) => `${v.name} ${v.version}`)).toEqual(['control 1', 'pilot 1', 'treatment 1', 'treatment 2']);
  });

  it('changes nothing when an entry is bad, and says which and why', async () => {
    const before = await versions();
    const bad = structuredClone(STUDY);
    bad[0].order = 99; // a valid change before the bad entry: not saved either
    bad[1].idPattern = '(P+)+';
    const result = await dcs(['import', write('bad.json', bad)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Nothing imported: entry 2 (control): the identifier pattern may take exponential time');
    const missing = await dcs(['import', write('missing.json', [STUDY[0], { name: 'x', idPattern: 'x' }])]);
    expect(missing.stderr).toContain('Nothing imported: entry 2 (x): needs "configuration"');
    const typo = await dcs(['import', write('typo.json', [{ ...STUDY[0], idpattern: 'y' }])]);
    expect(typo.stderr).toContain('entry 1 (pilot): has unknown keys "idpattern"');
    const notJson = await dcs(['import', write('broken.json', '[{"name": ')]);
    expect(notJson.stderr).toContain('Nothing imported: the file is not JSON');
    expect(await versions()).toEqual(before);
    expect((await db.pool.query(`SELECT evaluation_order FROM app_configurations WHERE name = 'pilot'`)).rows[0].evaluation_order).toBe(1);
  });

  it('assigns a configuration to a source directly, and clears it', async () => {
    const assigned = await dcs(['assign', 'P00000001', 'pilot']);
    expect(assigned.stdout).toBe('P00000001 is assigned pilot\n');
    const { rows } = await db.pool.query(`SELECT a.identifier, c.name FROM app_config_assignments a JOIN app_configurations c ON c.id = a.configuration_id`);
    expect(rows).toEqual([{ identifier: 'P00000001', name: 'pilot' }]);
    const unknown = await dcs(['assign', 'P00000001', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No configuration "nope"');
    await dcs(['assign', 'P00000001', '--clear']);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM app_config_assignments')).rows[0].n).toBe(0);
  });

  it('lists the configurations in evaluation order', async () => {
    const list = await dcs(['list']);
    expect(list.stdout.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/).slice(0, 4))).toEqual([
      ['1', 'on', 'pilot', 'v1'], ['2', 'on', 'control', 'v1'], ['3', 'on', 'treatment', 'v2'],
    ]);
    expect(list.stdout).toContain('weight 3');
  });
});
