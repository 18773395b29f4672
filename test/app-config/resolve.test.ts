/** Which configuration an identifier gets (resolve.ts), and how configurations are saved and versioned, on real PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { setAssignment } from '../../src/app-config/assignments.repository.ts';
import { ConfigurationError } from '../../src/app-config/configuration.ts';
import { listVersions } from '../../src/app-config/configurations.repository.ts';
import { putConfiguration, resolve, resolvedName, useConfigurationDatabase } from './support.ts';

const db = useConfigurationDatabase();

describe('resolution', () => {
  it('serves the configuration whose identifier pattern is the identifier', async () => {
    await putConfiguration(db.pool, { name: 'one', idPattern: '48213077' });
    await putConfiguration(db.pool, { name: 'other', idPattern: '99999999' });
    expect(await resolve(db.pool, '48213077')).toMatchObject({ configuration: { name: 'one' }, chosenBy: 'exact' });
  });

  it('matches patterns against the whole identifier only', async () => {
    await putConfiguration(db.pool, { name: 'digits', idPattern: '123' });
    await putConfiguration(db.pool, { name: 'wave-1', idPattern: 'w1-[0-9]{4}' });
    expect(await resolvedName(db.pool, '123')).toBe('digits');
    expect(await resolvedName(db.pool, 'x123y')).toBeUndefined();
    expect(await resolvedName(db.pool, '1234')).toBeUndefined();
    expect(await resolve(db.pool, 'w1-0042')).toMatchObject({ configuration: { name: 'wave-1' }, chosenBy: 'pattern' });
    expect(await resolvedName(db.pool, 'w1-00421')).toBeUndefined();
    expect(await resolvedName(db.pool, 'xw1-0042')).toBeUndefined();
  });

  it('takes the first match in evaluation order, not the last', async () => {
    await putConfiguration(db.pool, { name: 'later', idPattern: 'P.*', order: 20 });
    await putConfiguration(db.pool, { name: 'first', idPattern: 'P[0-9]+', order: 10 });
    await putConfiguration(db.pool, { name: 'catch-all', idPattern: '.*', order: 30 });
    expect(await resolvedName(db.pool, 'P123')).toBe('first');
    expect(await resolvedName(db.pool, 'Pabc')).toBe('later');
    expect(await resolvedName(db.pool, 'Q1')).toBe('catch-all');
  });

  it('prefers an exact identifier to a pattern that comes earlier', async () => {
    await putConfiguration(db.pool, { name: 'pattern', idPattern: '[0-9]+', order: 1 });
    await putConfiguration(db.pool, { name: 'exact', idPattern: '777', order: 99 });
    expect(await resolvedName(db.pool, '777')).toBe('exact');
    expect(await resolvedName(db.pool, '778')).toBe('pattern');
  });

  it('serves a configuration only where its context pattern matches the context', async () => {
    await putConfiguration(db.pool, { name: 'pilot', idPattern: '.*', contextPattern: 'pilot', order: 1 });
    await putConfiguration(db.pool, { name: 'main', idPattern: '.*', contextPattern: 'main|default', order: 2 });
    expect(await resolvedName(db.pool, 'A1', 'pilot')).toBe('pilot');
    expect(await resolvedName(db.pool, 'A1', 'main')).toBe('main');
    expect(await resolvedName(db.pool, 'A1')).toBe('main');
    expect(await resolvedName(db.pool, 'A1', 'pilot-2')).toBeUndefined();
  });

  it('never serves a disabled configuration', async () => {
    await putConfiguration(db.pool, { name: 'off', idPattern: 'A1', enabled: false, order: 1 });
    await putConfiguration(db.pool, { name: 'on', idPattern: 'A.*', order: 2 });
    expect(await resolvedName(db.pool, 'A1')).toBe('on');
    expect(await resolvedName(db.pool, 'B1')).toBeUndefined();
  });

  it('falls back to the default configuration by name when nothing matches', async () => {
    await putConfiguration(db.pool, { name: 'fallback', idPattern: 'never-matches' });
    expect(await resolvedName(db.pool, 'Z9')).toBeUndefined();
    expect(await resolve(db.pool, 'Z9', 'default', 'fallback')).toMatchObject({ configuration: { name: 'fallback' }, chosenBy: 'default' });
    expect(await resolvedName(db.pool, 'Z9', 'default', 'no such configuration')).toBeUndefined();
  });

  it('serves a directly assigned configuration before any pattern', async () => {
    const special = await putConfiguration(db.pool, { name: 'special', idPattern: 'never-matches', order: 50 });
    await putConfiguration(db.pool, { name: 'exact', idPattern: 'S1', order: 1 });
    await setAssignment(db.pool, 'S1', special.configuration.id, 'ana');
    expect(await resolve(db.pool, 'S1')).toMatchObject({ configuration: { name: 'special' }, chosenBy: 'assigned' });
    await setAssignment(db.pool, 'S1', null, 'ana');
    expect(await resolvedName(db.pool, 'S1')).toBe('exact');
  });
});

describe('saving', () => {
  it('refuses bad patterns, a document that is not an object, and says why', async () => {
    await expect(putConfiguration(db.pool, { name: 'nested', idPattern: '(a+)+b' })).rejects.toThrow(/identifier pattern may take exponential time/);
    await expect(putConfiguration(db.pool, { name: 'broken', idPattern: 'P[0-9' })).rejects.toThrow(/identifier pattern is not a regular expression/);
    await expect(putConfiguration(db.pool, { name: 'ctx', idPattern: '.*', contextPattern: '' })).rejects.toThrow(/context pattern is empty/);
    await expect(putConfiguration(db.pool, { name: 'array', document: [1] as unknown as Record<string, unknown> })).rejects.toThrow(ConfigurationError);
    await expect(putConfiguration(db.pool, { name: ' padded' })).rejects.toThrow(/spaces/);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM app_configurations')).rows[0].n).toBe(0);
  });

  it('keeps every saved version with who saved it, and makes none for an unchanged save', async () => {
    const first = await putConfiguration(db.pool, { name: 'arm', idPattern: 'A.*' }, 'ana');
    expect(first.outcome).toBe('created');
    const second = await putConfiguration(db.pool, { name: 'arm', idPattern: 'A.*', document: { ui: [], label: 'changed' } }, 'bo');
    expect(second).toMatchObject({ outcome: 'updated', configuration: { version: 2, updatedBy: 'bo' } });
    const third = await putConfiguration(db.pool, { name: 'arm', idPattern: 'A.*', document: { ui: [], label: 'changed' } }, 'cy');
    expect(third).toMatchObject({ outcome: 'unchanged', configuration: { version: 2 } });
    const versions = await listVersions(db.pool, first.configuration.id);
    expect(versions.map((v) => [v.version, v.savedBy])).toEqual([[2, 'bo'], [1, 'ana']]);
    expect(JSON.parse(versions[1].document).label).toBe('arm');
    expect(JSON.parse(versions[0].document).label).toBe('changed');
  });
});
