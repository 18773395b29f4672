/** `dcs sources erase|readmit|erased` as an operator runs it (a child process on a test database). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDcs } from '../helpers/dcs.ts';
import { extensionPoint, uploadPoints } from '../helpers/pdk-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const dcs = (args: string[], input?: string) => runDcs(args, { databaseUrl: server.db.url, input });
const points = async (source: string) => Number((await server.db.pool.query('SELECT count(*) AS n FROM data_points WHERE source = $1', [source])).rows[0].n);

beforeAll(async () => {
  server = await startTestServer();
  await uploadPoints(server.baseUrl, [extensionPoint('leaver-7', 'webmunk-page-visit', 1_780_000_000), extensionPoint('stayer-8', 'webmunk-page-visit', 1_780_000_001)]);
  await server.process();
});
afterAll(async () => server?.stop());

describe('dcs sources', () => {
  it('refuses to erase without --yes when it cannot ask, and erases nothing', async () => {
    const result = await dcs(['sources', 'erase', 'leaver-7'], '');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('add --yes');
    expect(await points('leaver-7')).toBe(1);
  });

  it('erases with --yes, prints the counts, and lists the identifier as erased', async () => {
    const result = await dcs(['sources', 'erase', 'leaver-7', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^erased leaver-7 \(audit entry \d+, /);
    expect(result.stdout).toMatch(/data_points\s+1\n/);
    expect(result.stdout).toMatch(/kept 1 bundle\(s\) shared with other participants/);
    expect(await points('leaver-7')).toBe(0);
    expect(await points('stayer-8')).toBe(1);
    const listed = await dcs(['sources', 'erased']);
    expect(listed.stdout).toMatch(/^leaver-7\t\S+\tcli:\S+\n$/);
  });

  it('re-admits it once, and says so when it is not on the list', async () => {
    expect((await dcs(['sources', 'readmit', 'leaver-7'])).stdout).toContain('re-admitted leaver-7');
    const again = await dcs(['sources', 'readmit', 'leaver-7']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('leaver-7 is not on the erased list');
    expect((await dcs(['sources', 'erased'])).stdout).toBe('');
  });

  it('explains its usage on a wrong call', async () => {
    const result = await dcs(['sources', 'erase']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sources erase ID [--yes]');
  });
});
