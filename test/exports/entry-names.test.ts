/**
 * Entry names chosen by participants (security-review.md L2): a data type (generator id) or a
 * source that is not a safe file name must not fail an export, names that differ only in case
 * must not overwrite each other when unzipped on macOS or Windows, and the original's own names
 * stay exactly as they were. Archives are read back with yauzl and checked with `unzip -t`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { runDcs } from '../helpers/dcs.ts';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, readZip, tempDir, tsvRows, uploadPoints } from './support.ts';

const server = useTestServer();

/** Sample `index` as sent by `source` with data type `type` (the sample's own when left out). */
function point(index: number, source: string, type?: string, timestamp?: number): Point {
  const [p] = samples(index);
  const meta = p['passive-data-metadata']!;
  meta.source = source;
  if (type) meta['generator-id'] = type;
  if (timestamp) meta.timestamp = timestamp;
  return p;
}

/** Names as a case-insensitive file system compares them (APFS, NTFS). */
const folded = (names: string[]) => names.map((name) => name.normalize('NFC').toLowerCase());

function expectUnzipTestsClean(file: string): void {
  // exit code 0 only when every entry is sound (CRC, sizes, names)
  expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
}

describe('entry names participants choose', () => {
  const poc = [
    point(0, 'alpha'), // webmunk-extension-matched-rule
    point(0, 'alpha', 'WEBMUNK-EXTENSION-MATCHED-RULE', 1694706100),
    point(7, 'alpha'), // webmunk-extension-action
    point(7, 'alpha', '../../poc'),
    point(7, 'alpha', 'C:poc'),
    point(7, 'alpha', 'con'),
    point(7, 'alpha', 'README'),
    point(5, 'C:poc'), // webmunk-extension-scroll-position
    point(5, 'Case-1', undefined, 1694706200),
    point(5, 'case-1', undefined, 1694706300),
    point(5, '../up', undefined, 1694706400),
  ];

  it('dcs export --types all writes every type, each under its own name, listed in README.txt (it failed on "../../poc")', async () => {
    await uploadPoints(server, poc);
    const out = path.join(tempDir(), 'all.zip');
    const result = await runDcs(['export', '--types', 'all', '--out', out], { databaseUrl: server.db.url });
    expect(result.stderr).not.toMatch(/failed/);
    expect(result.code).toBe(0);
    expectUnzipTestsClean(out);
    const entries = await readZip(out);
    const names = entries.map((e) => e.name);
    expect(new Set(folded(names)).size).toBe(names.length);
    // the original's names, exactly
    expect(names).toEqual(expect.arrayContaining(['webmunk-extension-matched-rule.txt', 'webmunk-extension-scroll-position.txt', 'webmunk-extension-action.txt', 'README.txt']));
    // the others: safe, unique whatever the case, and each holding its own type's points
    expect(names).toEqual(expect.arrayContaining(['webmunk-extension-matched-rule__1.txt', 'poc.txt', 'cpoc.txt', 'con__1.txt', 'readme__1.txt']));
    const text = (name: string) => tsvRows(entries.find((e) => e.name === name)!.data);
    expect(text('webmunk-extension-matched-rule__1.txt').slice(1).map((row) => row[2])).toEqual(['WEBMUNK-EXTENSION-MATCHED-RULE']);
    expect(text('poc.txt').slice(1).map((row) => row[2])).toEqual(['../../poc']);
    expect(text('con__1.txt').slice(1).map((row) => row[2])).toEqual(['con']);
    expect(text('readme__1.txt').slice(1).map((row) => row[2])).toEqual(['README']);
    expect(text('webmunk-extension-matched-rule.txt').slice(1).map((row) => row[0])).toEqual(['alpha']);
    const readme = entries.find((e) => e.name === 'README.txt')!.data.toString('utf8');
    expect(readme).toContain('  data type "WEBMUNK-EXTENSION-MATCHED-RULE" -> webmunk-extension-matched-rule__1\r\n');
    expect(readme).toContain('  data type "../../poc" -> poc\r\n');
    expect(readme).toContain('  data type "C:poc" -> cpoc\r\n');
    expect(readme).toContain('  data type "con" -> con__1\r\n');
    expect(readme).toContain('poc.txt: ');
    expect(readme).not.toMatch(/data type "webmunk-extension-matched-rule"/);
  });

  it('raw exports name files by safe, unique source and type names (they failed on "C:poc")', async () => {
    const archive = await exportArchive(server, { types: ['webmunk-extension-scroll-position', 'C:poc'], sources: ['C:poc', 'Case-1', 'case-1', '../up', 'alpha'], format: 'raw' });
    const names = [...archive.keys()].sort();
    expect(new Set(folded(names)).size).toBe(names.length);
    expect(names).toEqual([
      'Case-1__webmunk-extension-scroll-position__2023-09-14.json',
      'README.txt',
      'alpha__cpoc__2023-09-14.json',
      'case-1__1__webmunk-extension-scroll-position__2023-09-14.json',
      'cpoc__webmunk-extension-scroll-position__2023-09-14.json',
      'up__webmunk-extension-scroll-position__2023-09-14.json',
    ]);
    const sourceOf = (name: string) => JSON.parse(archive.get(name)!.data.toString('utf8'))[0]['passive-data-metadata'].source;
    expect(sourceOf('Case-1__webmunk-extension-scroll-position__2023-09-14.json')).toBe('Case-1');
    expect(sourceOf('case-1__1__webmunk-extension-scroll-position__2023-09-14.json')).toBe('case-1');
    expect(sourceOf('cpoc__webmunk-extension-scroll-position__2023-09-14.json')).toBe('C:poc');
    expect(sourceOf('up__webmunk-extension-scroll-position__2023-09-14.json')).toBe('../up');
    const readme = archive.get('README.txt')!.data.toString('utf8');
    expect(readme).toContain('  source "C:poc" -> cpoc\r\n');
    expect(readme).toContain('  source "case-1" -> case-1__1\r\n');
    expect(readme).toContain('  source "../up" -> up\r\n');
    expect(readme).toContain('  data type "C:poc" -> cpoc\r\n');
  });

  it('types that differ only in case get Parquet files of their own, each with its own rows', async () => {
    const archive = await exportArchive(server, { types: ['WEBMUNK-EXTENSION-MATCHED-RULE', 'webmunk-extension-matched-rule'], sources: ['alpha'], format: 'parquet' });
    expect([...archive.keys()].sort()).toEqual(['README.txt', 'webmunk-extension-matched-rule.parquet', 'webmunk-extension-matched-rule__1.parquet']);
    const rows = async (name: string) => parquetReadObjects({ file: new Uint8Array(archive.get(name)!.data).buffer });
    // the known type keeps its name even when the other comes first in the request
    expect((await rows('webmunk-extension-matched-rule.parquet')).map((row) => row.Rule)).toEqual([samples(0)[0].rule]);
    expect((await rows('webmunk-extension-matched-rule__1.parquet')).map((row) => row['Generator Identifier'])).toEqual(['WEBMUNK-EXTENSION-MATCHED-RULE']);
  });

  it('per-source files of log-elements stay slugged as the original, and never take a reserved or over-long name', async () => {
    const long = 'p'.repeat(300);
    await uploadPoints(server, [point(6, 'CON'), point(6, 'con'), point(6, long), point(6, 'LOG-A')]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-log-elements'], sources: ['CON', 'con', long, 'LOG-A'] });
    const names = [...archive.keys()].sort();
    expect(names).toEqual([
      'README.txt',
      'webmunk-extension-log-elements/con__1.txt',
      'webmunk-extension-log-elements/con__2.txt',
      'webmunk-extension-log-elements/log-a.txt',
      `webmunk-extension-log-elements/${'p'.repeat(100)}.txt`,
    ]);
    const readme = archive.get('README.txt')!.data.toString('utf8');
    expect(readme).toContain('  source "CON" -> con__1\r\n');
    expect(readme).toContain('  source "LOG-A" -> log-a\r\n');
    expect(readme).toContain('webmunk-extension-log-elements/<source>.txt: ');
  });
});
