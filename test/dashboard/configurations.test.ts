/** The Configurations pages and the source page's configuration panel, over real HTTP. */
import { beforeAll, describe, expect, it } from 'vitest';
import { putConfiguration } from '../app-config/support.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

describe('configurations pages', () => {
  const server = useTestServer({ APP_CONFIG_RATE_PER_MINUTE: '0' });
  let admin: Login;
  let staff: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse', true);
    await createStaff(server.db.pool, 'bo', 'battery staple', false);
    admin = await logIn(server.baseUrl, 'ana', 'correct horse');
    staff = await logIn(server.baseUrl, 'bo', 'battery staple');
  });

  const get = (path: string, login = admin) => fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie }, redirect: 'manual' });
  const post = (path: string, fields: Record<string, string>, login = admin) => fetch(`${server.baseUrl}${path}`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: login.csrf, ...fields }).toString(),
  });
  const form = (name: string, document: string, extra: Record<string, string> = {}) => ({ name, id_pattern: 'P[0-9]{4}', context_pattern: '.*', order: '5', enabled: '1', weight: '', document, ...extra });
  const idOf = async (name: string) => Number((await server.db.pool.query('SELECT id FROM app_configurations WHERE name = $1', [name])).rows[0].id);

  it('creates a configuration from the form, as version 1 by the administrator', async () => {
    const created = await post('/data/configurations', form('wave-1', '{"ui": [], "passive_data_kit": {"endpoint": ""}}'));
    expect(created.status).toBe(303);
    const id = await idOf('wave-1');
    expect(created.headers.get('location')).toMatch(new RegExp(`^/data/configurations/${id}\\?done=config-created`));
    const page = await (await get(created.headers.get('location')!)).text();
    expect(page).toContain('Configuration wave-1 created.');
    expect(page).toMatch(/<td class="num">1<\/td><td class="nowrap">[^<]+<\/td><td>ana<\/td>\s*<td>created<\/td>/);
    const list = await (await get('/data/configurations')).text();
    expect(list).toMatch(/<tr class="" data-configuration="wave-1">\s*<td class="num">5<\/td><td><a href="\/data\/configurations\/\d+">wave-1<\/a><\/td>\s*<td>enabled<\/td><td class="mono">P\[0-9\]\{4\}<\/td>/);
  });

  it('shows the JSON parser\'s error with its line, and keeps the text typed', async () => {
    const response = await post('/data/configurations', form('broken', '{\n  "ui": [],\n  oops\n}'));
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('the configuration is not valid JSON');
    expect(page).toContain('line 3 column 3');
    expect(page).toContain('  oops\n}</textarea>');
    const pattern = await (await post('/data/configurations', form('nested', '{}', { id_pattern: '(P+)+' }))).text();
    expect(pattern).toContain('the identifier pattern may take exponential time');
    expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM app_configurations WHERE name IN ('broken', 'nested')`)).rows[0].n).toBe(0);
  });

  it('saves an edit as a new version, and shows what changed', async () => {
    const EDITED = '{"ui": [], "passive_data_kit": {"endpoint": "https://up.example.org/"}, "history": {"enabled": true}}';
    const id = await idOf('wave-1');
    const saved = await post(`/data/configurations/${id}`, form('wave-1', EDITED, { order: '7' }));
    expect(saved.status).toBe(303);
    expect(new URL(saved.headers.get('location')!, server.baseUrl).searchParams.get('subject')).toBe('wave-1 version 2');
    const unchanged = await post(`/data/configurations/${id}`, form('wave-1', EDITED, { order: '7' }));
    expect(unchanged.headers.get('location')).toContain('done=config-unchanged');
    const page = await (await get(`/data/configurations/${id}?diff=2`)).text();
    expect(page).toContain('<h2>Version 2 against version 1</h2>');
    expect(page).toMatch(/<tr><td>Order<\/td><td class="mono">5<\/td><td class="mono">7<\/td><\/tr>/);
    expect(page).toContain('<span class="removed">-     &quot;endpoint&quot;: &quot;&quot;</span>\n<span class="added">+     &quot;endpoint&quot;: &quot;https://up.example.org/&quot;</span>');
    expect(page).toContain('<span class="added">+   },</span>');
    expect(page).toContain('<span class="added">+   &quot;history&quot;: {</span>');
    expect(page).toMatch(/<td class="num">2<\/td>.*?<td>Order, Configuration<\/td>/s);
  });

  it('disables and enables a configuration', async () => {
    const id = await idOf('wave-1');
    const off = await post(`/data/configurations/${id}/enabled`, { enabled: '0', return: '/data/configurations' });
    expect(off.headers.get('location')).toMatch(/^\/data\/configurations\?done=config-disabled/);
    expect((await fetch(`${server.baseUrl}/data/app-config.json?id=P1234`)).status).toBe(404);
    await post(`/data/configurations/${id}/enabled`, { enabled: '1', return: '/data/configurations' });
    expect((await fetch(`${server.baseUrl}/data/app-config.json?id=P1234`)).status).toBe(200);
    expect((await server.db.pool.query('SELECT version FROM app_configurations WHERE id = $1', [id])).rows[0].version).toBe(4);
  });

  it('exports every configuration as the file dcs config import reads', async () => {
    const response = await get('/data/configurations.json', staff);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="configurations.json"');
    const entries = await response.json();
    expect(entries.find((e: { name: string }) => e.name === 'wave-1')).toEqual({
      name: 'wave-1', idPattern: 'P[0-9]{4}', contextPattern: '.*', order: 7, enabled: true,
      configuration: { ui: [], passive_data_kit: { endpoint: 'https://up.example.org/' }, history: { enabled: true } },
    });
  });

  it('lets staff look but not change', async () => {
    const id = await idOf('wave-1');
    const list = await (await get('/data/configurations', staff)).text();
    expect(list).toContain('wave-1');
    expect(list).not.toContain('New configuration');
    expect(list).toContain('Only an administrator can create or change configurations.');
    const page = await (await get(`/data/configurations/${id}`, staff)).text();
    expect(page).toContain('&quot;history&quot;');
    expect(page).not.toContain('<textarea');
    const refused = await post(`/data/configurations/${id}`, form('wave-1', '{}'), staff);
    expect(refused.status).toBe(403);
    expect((await post('/data/sources/configuration', { source: 'P1234', configuration: String(id) }, staff)).status).toBe(403);
    expect((await server.db.pool.query('SELECT version FROM app_configurations WHERE id = $1', [id])).rows[0].version).toBe(4);
  });

  it('shows on the source page what the source was served and how, and assigns one directly', async () => {
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('P7001', now())`);
    await putConfiguration(server.db.pool, { name: 'arm-a', idPattern: 'P7[0-9]{3}', weight: 1, order: 1 });
    await putConfiguration(server.db.pool, { name: 'arm-b', idPattern: 'P7[0-9]{3}', weight: 1, order: 2 });
    const before = await (await get('/data/source/P7001')).text();
    expect(before).toContain('Never asked for a configuration');
    const drawn = (await (await fetch(`${server.baseUrl}/data/app-config.json?id=P7001`)).json()).label;
    const page = await (await get('/data/source/P7001')).text();
    expect(page).toMatch(new RegExp(`Served <a href="/data/configurations/\\d+">${drawn}</a> version 1\\s+\\(drawn as a study arm\\)`));

    const special = await putConfiguration(server.db.pool, { name: 'special', idPattern: 'nobody' });
    const assigned = await post('/data/sources/configuration', { source: 'P7001', configuration: String(special.configuration.id) });
    expect(assigned.headers.get('location')).toMatch(/^\/data\/source\/P7001\?done=config-assigned/);
    await fetch(`${server.baseUrl}/data/app-config.json?id=P7001`);
    const after = await (await get(assigned.headers.get('location')!)).text();
    expect(after).toContain('Configuration assigned: special to P7001.');
    expect(after).toMatch(/Served <a href="\/data\/configurations\/\d+">special<\/a> version 1\s+\(assigned directly\)/);
    expect(after).toMatch(/<option value="\d+" selected>special<\/option>/);
    await post('/data/sources/configuration', { source: 'P7001', configuration: '' });
    expect((await (await fetch(`${server.baseUrl}/data/app-config.json?id=P7001`)).json()).label).toBe(drawn);
  });

  it('names each source\'s configuration in the source list', async () => {
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('P7002', now()), ('Q1', now())`);
    await fetch(`${server.baseUrl}/data/app-config.json?id=P7002`);
    const tsv = await (await get('/data/sources.tsv')).text();
    const lines = tsv.split('\r\n');
    expect(lines[0]).toBe('Source ID\tSource Name\tGroup\tConfiguration');
    const served = (await server.db.pool.query(`SELECT s.identifier, c.name FROM app_config_served s JOIN app_configurations c ON c.id = s.configuration_id`)).rows;
    const arm = served.find((r) => r.identifier === 'P7002').name;
    expect(['arm-a', 'arm-b']).toContain(arm);
    expect(lines).toContain(`P7002\t\t\t${arm}`);
    expect(lines).toContain('Q1\t\t\t');
  });
});
