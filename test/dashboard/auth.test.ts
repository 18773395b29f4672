/** Staff login over real HTTP: sessions, cookies, CSRF, rate limits; uploads stay open. */
import { describe, expect, it } from 'vitest';
import { FORM, gzipForm, samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, postLogin } from '../helpers/staff.ts';

describe('dashboard login', () => {
  const server = useTestServer({ TRUST_PROXY: 'true' });

  it('redirects pages to the login page and answers JSON requests 401', async () => {
    const page = await fetch(`${server.baseUrl}/data/system-health?x=1`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/data/login?next=%2Fdata%2Fsystem-health%3Fx%3D1');
    const json = await fetch(`${server.baseUrl}/data/`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    expect(json.status).toBe(401);
    expect(await json.json()).toEqual({ message: 'Log in to the dashboard first.', code: 'DCS_ERR_LOGIN_REQUIRED' });
    const css = await fetch(`${server.baseUrl}/data/static/dashboard.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('never asks uploads to log in', async () => {
    const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(samples(0)) });
    expect(response.status).toBe(201);
  });

  it('logs in with an httpOnly SameSite=Lax cookie, Secure behind an HTTPS proxy, and returns to `next`', async () => {
    const user = await createStaff(server.db.pool, 'bea', 'a long passphrase');
    const plain = await postLogin(server.baseUrl, user.username, user.password);
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe('/data/');
    const cookie = plain.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^dcs_session=[\w-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/data');
    expect(cookie).not.toContain('Secure');
    const proxied = await postLogin(server.baseUrl, user.username, user.password, { 'x-forwarded-proto': 'https' });
    expect(proxied.headers.getSetCookie()[0]).toContain('Secure');
    const home = await fetch(`${server.baseUrl}/data/`, { headers: { cookie: cookie.split(';')[0] } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('bea');
    // The stored hash is argon2id and the token itself is not stored.
    const { rows } = await server.db.pool.query(`SELECT password_hash FROM staff_users WHERE username = 'bea'`);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const token = cookie.split(';')[0].split('=')[1];
    const stored = await server.db.pool.query('SELECT count(*)::int AS n FROM staff_sessions WHERE token_hash::text LIKE $1', [`%${Buffer.from(token).toString('hex')}%`]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    await createStaff(server.db.pool, 'cai', 'right password');
    const wrong = await postLogin(server.baseUrl, 'cai', 'wrong password');
    const unknown = await postLogin(server.baseUrl, 'nobody', 'right password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.text()).toContain('Unknown user name or wrong password.');
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('needs the session CSRF token on every form, and logout ends the session', async () => {
    await createStaff(server.db.pool, 'dan', 'dans password');
    const login = await logIn(server.baseUrl, 'dan', 'dans password');
    const post = (body: Record<string, string>) => fetch(`${server.baseUrl}/data/logout`, {
      method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: login.cookie }, body: new URLSearchParams(body).toString(),
    });
    const forged = await post({});
    expect(forged.status).toBe(403);
    expect((await forged.json()).code).toBe('DCS_ERR_CSRF');
    expect((await post({ _csrf: 'x'.repeat(login.csrf.length) })).status).toBe(403);
    const out = await post({ _csrf: login.csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/data/login');
    const after = await fetch(`${server.baseUrl}/data/`, { headers: { cookie: login.cookie }, redirect: 'manual' });
    expect(after.status).toBe(302);
  });

  it('rate-limits failed logins per account (429, even with the right password)', async () => {
    await createStaff(server.db.pool, 'eve', 'eves password');
    const from = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 5; i += 1) expect((await postLogin(server.baseUrl, 'eve', `guess ${i}`, from)).status).toBe(401);
    const locked = await postLogin(server.baseUrl, 'eve', 'eves password', { 'x-forwarded-for': '203.0.113.8' });
    expect(locked.status).toBe(429);
    expect(await locked.text()).toMatch(/Too many failed logins\. Try again in \d+ minutes?\./);
    // Another account is not affected.
    await createStaff(server.db.pool, 'fay', 'fays password');
    expect((await postLogin(server.baseUrl, 'fay', 'fays password', from)).status).toBe(303);
  });

  it('rate-limits failed logins per address', async () => {
    await createStaff(server.db.pool, 'gus', 'gus password');
    const from = { 'x-forwarded-for': '198.51.100.9' };
    for (let i = 0; i < 20; i += 1) expect((await postLogin(server.baseUrl, `user${i}`, 'guess', from)).status).toBe(401);
    expect((await postLogin(server.baseUrl, 'gus', 'gus password', from)).status).toBe(429);
    expect((await postLogin(server.baseUrl, 'gus', 'gus password', { 'x-forwarded-for': '198.51.100.10' })).status).toBe(303);
  });

  it('counts parallel wrong passwords before checking them: at most 5 get 401, the rest 429', async () => {
    await createStaff(server.db.pool, 'ida', 'idas password');
    const from = { 'x-forwarded-for': '203.0.113.40' };
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => postLogin(server.baseUrl, 'ida', `guess ${i}`, from)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM login_failures WHERE username = 'ida'`);
    expect(rows[0].n).toBe(statuses.filter((s) => s === 401).length);
    // Attempts that found another one being counted were turned away uncounted (429), so the burst
    // may have used fewer than 5 guesses: one at a time, exactly the rest get checked, then none.
    let checked = rows[0].n;
    for (let i = 0; i < 5; i += 1) {
      if ((await postLogin(server.baseUrl, 'ida', `more ${i}`, from)).status === 401) checked += 1;
    }
    expect(checked).toBe(5);
    expect((await postLogin(server.baseUrl, 'ida', 'idas password', { 'x-forwarded-for': '203.0.113.41' })).status).toBe(429);
  });

  it('counts parallel attempts per address the same way: at most 20 get 401', async () => {
    const from = { 'x-forwarded-for': '203.0.113.50' };
    const replies = await Promise.all(Array.from({ length: 45 }, (_, i) => postLogin(server.baseUrl, `sprayed${i}`, 'Winter2026', from)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it('refuses an over-long user name or password with 400 and a clear message, and does not count it', async () => {
    await createStaff(server.db.pool, 'jon', 'jons password');
    const from = { 'x-forwarded-for': '203.0.113.60' };
    const longName = await postLogin(server.baseUrl, 'j'.repeat(151), 'jons password', from);
    expect(longName.status).toBe(400);
    expect(await longName.text()).toContain('User names have at most 150 characters and passwords at most 1024.');
    const longPassword = await postLogin(server.baseUrl, 'jon', 'p'.repeat(1025), from);
    expect(longPassword.status).toBe(400);
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM login_failures WHERE address = '203.0.113.60'`);
    expect(rows[0].n).toBe(0);
    expect((await postLogin(server.baseUrl, 'jon', 'jons password', from)).status).toBe(303);
  });

  it('only returns to dashboard paths after login (no open redirect)', async () => {
    await createStaff(server.db.pool, 'hal', 'hals password');
    const response = await fetch(`${server.baseUrl}/data/login`, {
      method: 'POST', redirect: 'manual', headers: FORM,
      body: new URLSearchParams({ username: 'hal', password: 'hals password', next: '//evil.example/data/' }).toString(),
    });
    expect(response.headers.get('location')).toBe('/data/');
  });
});

describe('session lifetime', () => {
  const server = useTestServer({ SESSION_HOURS: '12', SESSION_MAX_HOURS: '24' });

  it('ends a session SESSION_MAX_HOURS after the login, however much it is used', async () => {
    await createStaff(server.db.pool, 'kim', 'kims password');
    const response = await postLogin(server.baseUrl, 'kim', 'kims password');
    expect(response.headers.getSetCookie()[0]).toContain(`Max-Age=${24 * 3600}`);
    const cookie = response.headers.getSetCookie()[0].split(';')[0];
    const home = () => fetch(`${server.baseUrl}/data/`, { headers: { cookie }, redirect: 'manual' });
    // Logged in 23.5 hours ago, last used an hour ago: still on, but its idle extension stops at 24 hours.
    await server.db.pool.query(`UPDATE staff_sessions SET created_at = now() - interval '23.5 hours', last_seen_at = now() - interval '1 hour'`);
    expect((await home()).status).toBe(200);
    const { rows: [session] } = await server.db.pool.query(`SELECT expires_at <= created_at + interval '24 hours' AS capped FROM staff_sessions`);
    expect(session.capped).toBe(true);
    // 25 hours after the login it is over, even with an expiry still ahead (e.g. SESSION_MAX_HOURS lowered since).
    await server.db.pool.query(`UPDATE staff_sessions SET created_at = now() - interval '25 hours', expires_at = now() + interval '6 hours'`);
    const after = await home();
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toBe('/data/login?next=%2Fdata%2F');
  });
});
