/**
 * A NUL character (%00) in a dashboard form field or query parameter: PostgreSQL text cannot hold
 * one, so it would fail the query (a 500). It is refused with a 400 before anything runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

describe('NUL characters in dashboard input', () => {
  const server = useTestServer();
  let login: Login;
  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse', true);
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
  });

  it('refuses them in a query parameter', async () => {
    for (const path of ['/data/products?q=%00', '/data/user-agents?q=a%00b', '/data/?q=%00']) {
      const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie, accept: 'application/json' } });
      expect(response.status, path).toBe(400);
      expect((await response.json()).message).toMatch(/NUL/);
    }
  });

  it('refuses them in a form field, changing nothing', async () => {
    const response = await fetch(`${server.baseUrl}/data/groups/add`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ _csrf: login.csrf, name: 'Arm\u0000A' }).toString(),
    });
    expect(response.status).toBe(400);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM source_groups');
    expect(rows[0].n).toBe(0);
  });
});
