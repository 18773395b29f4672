/** Erasure from the source page (administrators only, confirm step, CSRF), and re-admission. */
import { beforeAll, describe, expect, it } from 'vitest';
import { extensionPoint, uploadPoints } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

describe('erasure on the source page', () => {
  const server = useTestServer();
  let admin: Login;
  let staff: Login;
  const source = 'P 9/ä';
  const page = `/data/source/${encodeURIComponent(source)}`;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse', true);
    await createStaff(server.db.pool, 'bo', 'battery staple', false);
    admin = await logIn(server.baseUrl, 'ana', 'correct horse');
    staff = await logIn(server.baseUrl, 'bo', 'battery staple');
    await uploadPoints(server.baseUrl, [extensionPoint(source, 'webmunk-page-visit', 1_780_000_000)]);
    await server.process();
  });

  const get = (path: string, login: Login) => fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie }, redirect: 'manual' });
  const post = (path: string, login: Login, fields: Record<string, string>) => fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const points = async () => Number((await server.db.pool.query('SELECT count(*) AS n FROM data_points WHERE source = $1', [source])).rows[0].n);

  it('shows the form to administrators only', async () => {
    expect(await (await get(page, admin)).text()).toContain('Erase this participant');
    const other = await (await get(page, staff)).text();
    expect(other).not.toContain('Erase this participant');
    expect(other).toContain('Only an administrator can erase');
  });

  it('refuses a non-administrator, a request without the CSRF token and an unconfirmed one, erasing nothing', async () => {
    expect((await post('/data/sources/erase', staff, { _csrf: staff.csrf, source, confirm: source })).status).toBe(403);
    expect((await post('/data/sources/erase', admin, { source, confirm: source })).status).toBe(403);
    const unconfirmed = await post('/data/sources/erase', admin, { _csrf: admin.csrf, source, confirm: 'P 9' });
    expect(unconfirmed.status).toBe(303);
    expect(await (await get(unconfirmed.headers.get('location')!, admin)).text()).toContain(`Nothing erased: type ${source} exactly to confirm.`);
    expect(await points()).toBe(1);
  });

  it('erases when confirmed, then shows the audit, and re-admits', async () => {
    const erased = await post('/data/sources/erase', admin, { _csrf: admin.csrf, source, confirm: source });
    expect(erased.status).toBe(303);
    expect(await points()).toBe(0);
    const after = await get(erased.headers.get('location')!, admin);
    expect(after.status).toBe(410);
    const text = await after.text();
    expect(text).toContain('Erased P 9/ä (1 point, 1 upload)');
    expect(text).toMatch(/<td>erased<\/td><td>ana<\/td>\s*<td class="small">[^<]*\bbundles 1, data_points 1\b/);
    expect(text).toContain('Re-admit');
    const readmitted = await post('/data/sources/readmit', admin, { _csrf: admin.csrf, source });
    const back = await get(readmitted.headers.get('location')!, admin);
    expect(back.status).toBe(404);
    expect(await back.text()).toContain(`${source} re-admitted`);
  });
});
