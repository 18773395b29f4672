/** Study arms: weighted configurations sharing an identifier pattern, drawn once per identifier and recorded. */
import { beforeEach, describe, expect, it } from 'vitest';
import { putConfiguration, resolve, resolvedName, useConfigurationDatabase } from './support.ts';

const db = useConfigurationDatabase();
beforeEach(async () => {
  await putConfiguration(db.pool, { name: 'control', idPattern: 'P[0-9]+', weight: 1, order: 1 });
  await putConfiguration(db.pool, { name: 'treatment', idPattern: 'P[0-9]+', weight: 1, order: 2 });
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `P${1000 + i}`);

describe('study arms', () => {
  it('draws both arms over many identifiers, and records each draw', async () => {
    const arms = new Map<string, string>();
    for (const id of ids(60)) {
      const resolved = await resolve(db.pool, id);
      expect(resolved?.chosenBy).toBe('drawn');
      arms.set(id, resolved!.configuration.name);
    }
    const counts = [...arms.values()].reduce((c, name) => c.set(name, (c.get(name) ?? 0) + 1), new Map<string, number>());
    // 60 fair draws: each arm at least 10 times, unless something has gone wrong (p < 1e-6)
    expect(counts.get('control')).toBeGreaterThanOrEqual(10);
    expect(counts.get('treatment')).toBeGreaterThanOrEqual(10);
    const { rows } = await db.pool.query(`SELECT d.identifier, c.name FROM app_config_draws d JOIN app_configurations c ON c.id = d.configuration_id`);
    expect(new Map(rows.map((r) => [r.identifier, r.name]))).toEqual(arms);
  });

  it('gives every identifier the same arm on every request, also after the weights change', async () => {
    const before = new Map<string, string | undefined>();
    for (const id of ids(20)) before.set(id, await resolvedName(db.pool, id));
    for (const id of ids(20)) expect(await resolvedName(db.pool, id)).toBe(before.get(id));
    // All new participants to treatment from now on: nobody already drawn moves.
    await putConfiguration(db.pool, { name: 'control', idPattern: 'P[0-9]+', weight: 0, order: 1 });
    await putConfiguration(db.pool, { name: 'treatment', idPattern: 'P[0-9]+', weight: 5, order: 2 });
    for (const id of ids(20)) expect(await resolvedName(db.pool, id)).toBe(before.get(id));
    for (const id of ['P5001', 'P5002', 'P5003', 'P5004', 'P5005']) expect(await resolvedName(db.pool, id)).toBe('treatment');
  });

  it('follows the weights', async () => {
    await putConfiguration(db.pool, { name: 'control', idPattern: 'P[0-9]+', weight: 0, order: 1 });
    for (const id of ids(15)) expect(await resolvedName(db.pool, id)).toBe('treatment');
  });

  it('agrees between concurrent first requests of one identifier', async () => {
    for (const id of ids(10)) {
      const names = await Promise.all(Array.from({ length: 4 }, () => resolvedName(db.pool, id)));
      expect(new Set(names).size).toBe(1);
      expect(await resolvedName(db.pool, id)).toBe(names[0]);
    }
  });

  it('draws again for an identifier whose arm was disabled, among the arms still served', async () => {
    const drawnControl = [];
    for (const id of ids(30)) if ((await resolvedName(db.pool, id)) === 'control') drawnControl.push(id);
    expect(drawnControl.length).toBeGreaterThan(0);
    await putConfiguration(db.pool, { name: 'control', idPattern: 'P[0-9]+', weight: 1, order: 1, enabled: false });
    for (const id of drawnControl) expect(await resolvedName(db.pool, id)).toBe('treatment');
  });

  it('is one arm set per identifier pattern: an unweighted configuration earlier in the order still wins', async () => {
    await putConfiguration(db.pool, { name: 'pilot', idPattern: 'P1.*', order: 0 });
    expect(await resolvedName(db.pool, 'P1000')).toBe('pilot');
    expect(['control', 'treatment']).toContain(await resolvedName(db.pool, 'P2000'));
  });
});
