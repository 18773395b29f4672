/** GET and POST /data/app-config.json over real HTTP, as rex-core calls it. */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.ts';
import { putConfiguration, rexDocument } from './support.ts';

const PUBLIC_URL = 'https://dcs.example.org';

describe('app-config.json', () => {
  const server = useTestServer({ PUBLIC_URL, APP_CONFIG_RATE_PER_MINUTE: '0' });

  beforeAll(async () => {
    await putConfiguration(server.db.pool, { name: 'wave-1', idPattern: 'w1-[0-9]+', order: 1 });
    await putConfiguration(server.db.pool, { name: 'own-endpoint', idPattern: 'own-[0-9]+', order: 2, document: rexDocument('own-endpoint', { passive_data_kit: { endpoint: 'https://other.example.org/v3/data/bundle', endpoint_version: 'v3' } }) });
    await putConfiguration(server.db.pool, { name: 'no-pdk', idPattern: 'bare', order: 3, document: { ui: [], label: 'no-pdk' } });
    await putConfiguration(server.db.pool, { name: 'default-id', idPattern: 'default', order: 4 });
  });

  const get = (query: string, init: RequestInit = {}) => fetch(`${server.baseUrl}/data/app-config.json${query}`, init);

  it('serves the configuration, indented by 2, to any origin, without cookies', async () => {
    const response = await get('?id=w1-17');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('set-cookie')).toBeNull();
    const text = await response.text();
    expect(text).toMatch(/^\{\n {2}"ui": \[\n {4}\{\n {6}"title": "wave-1"/);
    expect(JSON.parse(text).label).toBe('wave-1');
  });

  it('puts the identifier in passive_data_kit, and this server\'s upload URL where the endpoint is empty', async () => {
    const wave = await (await get('?id=w1-17')).json();
    expect(wave.passive_data_kit).toEqual({ endpoint: `${PUBLIC_URL}/data/add-bundle.json`, enabled: true, identifier: 'w1-17' });
    const own = await (await get('?id=own-5')).json();
    expect(own.passive_data_kit).toEqual({ endpoint: 'https://other.example.org/v3/data/bundle', endpoint_version: 'v3', identifier: 'own-5' });
    const bare = await (await get('?id=bare')).json();
    expect(bare).toEqual({ ui: [], label: 'no-pdk', passive_data_kit: { identifier: 'bare', endpoint: `${PUBLIC_URL}/data/add-bundle.json` } });
  });

  it('reads id, else identifier, else "default", and ignores the scope parameters REX appends', async () => {
    expect((await (await get('?identifier=w1-2&study=s1&wave=2')).json()).passive_data_kit.identifier).toBe('w1-2');
    expect((await (await get('?id=w1-3&identifier=w1-4')).json()).passive_data_kit.identifier).toBe('w1-3');
    expect((await (await get('')).json()).passive_data_kit.identifier).toBe('default');
  });

  it('answers the doubled slash too (/data//app-config.json, folded by the router)', async () => {
    const response = await fetch(`${server.baseUrl}/data//app-config.json?id=w1-8`);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect((await response.json()).passive_data_kit.identifier).toBe('w1-8');
  });

  it('takes a POST form as well', async () => {
    const response = await get('', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=w1-99&context=default' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect((await response.json()).passive_data_kit.identifier).toBe('w1-99');
  });

  it('answers an unknown identifier with 404 JSON, readable by the extension', async () => {
    const response = await get('?id=x-w1-17');
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual({ message: 'No configuration for this identifier.', code: 'DCS_ERR_UNKNOWN_IDENTIFIER' });
  });

  it('refuses identifiers too long to evaluate patterns on', async () => {
    const response = await get(`?id=w1-${'1'.repeat(300)}`);
    expect(response.status).toBe(400);
    expect((await response.json()).code).toBe('DCS_ERR_BAD_REQUEST');
  });

  it('refuses a NUL character in the identifier or the context with 400 JSON', async () => {
    for (const query of ['?id=w1-1%00', '?identifier=%00', '?id=w1-1&context=a%00']) {
      const response = await get(query);
      expect(response.status, query).toBe(400);
      expect((await response.json()).message).toMatch(/NUL/);
    }
  });

  it('records the configuration and the version each identifier was served last', async () => {
    await get('?id=w1-500');
    await putConfiguration(server.db.pool, { name: 'wave-1', idPattern: 'w1-[0-9]+', order: 1, document: rexDocument('wave-1', { history: { enabled: true } }) });
    await get('?id=w1-501');
    const { rows } = await server.db.pool.query(
      `SELECT s.identifier, c.name, s.version, s.chosen_by FROM app_config_served s JOIN app_configurations c ON c.id = s.configuration_id WHERE s.identifier LIKE 'w1-50_' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { identifier: 'w1-500', name: 'wave-1', version: 1, chosen_by: 'pattern' },
      { identifier: 'w1-501', name: 'wave-1', version: 2, chosen_by: 'pattern' },
    ]);
  });
});

describe('app-config.json with APP_CONFIG_DEFAULT', () => {
  const server = useTestServer({ APP_CONFIG_DEFAULT: 'fallback' });

  it('serves the named configuration to identifiers nothing matches', async () => {
    await putConfiguration(server.db.pool, { name: 'fallback', idPattern: 'nobody' });
    const response = await fetch(`${server.baseUrl}/data/app-config.json?id=stranger`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ label: 'fallback', passive_data_kit: { identifier: 'stranger' } });
  });
});

describe('app-config.json rate limit', () => {
  const server = useTestServer({ APP_CONFIG_RATE_PER_MINUTE: '3' });

  it('answers 429 JSON past the limit per address', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${server.baseUrl}/data/app-config.json?id=guess-${i}`)).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    const response = await fetch(`${server.baseUrl}/data/app-config.json?id=guess-9`);
    expect(await response.json()).toEqual({ message: 'Too many requests from this address; try again in a minute.', code: 'DCS_ERR_TOO_MANY_REQUESTS' });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});
