/**
 * What every dashboard reply carries and how it fails, over real HTTP: security headers on pages,
 * redirects, errors, the login page and the stylesheet; CORS only on the upload endpoints; errors
 * as pages for browsers and JSON for everyone else; small form bodies refused at once.
 */
import http from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORM, gzipForm, samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function expectSecurityHeaders(response: Response, what: string) {
  expect(response.headers.get('content-security-policy'), what).toBe(CSP);
  expect(response.headers.get('x-frame-options'), what).toBe('DENY');
  expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(response.headers.get('referrer-policy'), what).toBe('same-origin');
  expect(response.headers.get('access-control-allow-origin'), what).toBeNull();
}

/** POSTs `length` bytes declared up front but sends only `sent` of them; resolves with the reply. */
function postPartly(port: number, path: string, length: number, sent: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ port, host: '127.0.0.1', path, method: 'POST', headers: { ...FORM, ...BROWSER, 'content-length': length } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.write(Buffer.alloc(sent, 'a'));
    // The rest of the body is never sent: only a server that answers at once replies.
  });
}

describe('dashboard replies', () => {
  const server = useTestServer();
  let login: Login;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.baseUrl}${path}`, { redirect: 'manual', headers });

  beforeAll(async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse');
    login = await logIn(server.baseUrl, 'ana', 'correct horse');
  });

  it('carry the security headers and no CORS headers, whatever the reply', async () => {
    const withLogin = { cookie: login.cookie, ...BROWSER };
    const replies: Array<[string, Response]> = [
      ['page', await get('/data/', withLogin)],
      ['login page', await get('/data/login', BROWSER)],
      ['stylesheet', await get('/data/static/dashboard.css')],
      ['redirect to login', await get('/data/system-health', BROWSER)],
      ['404', await get('/data/no-such-page', withLogin)],
      ['404 without login', await get('/data/no-such-page', BROWSER)],
      ['CSRF error', await fetch(`${server.baseUrl}/data/logout`, { method: 'POST', redirect: 'manual', headers: { ...FORM, ...withLogin }, body: '' })],
      ['JSON 401', await get('/data/', { accept: 'application/json' })],
      ['TSV download', await get('/data/sources.tsv', withLogin)],
      ['failed login', await fetch(`${server.baseUrl}/data/login`, { method: 'POST', redirect: 'manual', headers: { ...FORM, ...BROWSER }, body: 'username=ana&password=wrong+one' })],
    ];
    expect(replies.map(([what, r]) => [what, r.status])).toEqual([
      ['page', 200], ['login page', 200], ['stylesheet', 200], ['redirect to login', 302], ['404', 404], ['404 without login', 404],
      ['CSRF error', 403], ['JSON 401', 401], ['TSV download', 200], ['failed login', 401],
    ]);
    for (const [what, response] of replies) expectSecurityHeaders(response, what);
  });

  it('put CORS headers on the upload endpoints only', async () => {
    const upload = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(samples(0)) });
    expect(upload.status).toBe(201);
    expect(upload.headers.get('access-control-allow-origin')).toBe('*');
    const refused = await fetch(`${server.baseUrl}/data/add-point.json`, { method: 'GET' });
    expect(refused.status).toBe(405);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    for (const path of ['/healthz', '/metrics', '/support/asins.json', '/no-such-path']) {
      expect((await get(path)).headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('show errors to browsers as a page in the dashboard, with the code and a way back', async () => {
    const notFound = await get('/data/no-such-page', { cookie: login.cookie, ...BROWSER, referer: `${server.baseUrl}/data/user-agents?q=x` });
    expect(notFound.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await notFound.text();
    expect(page).toContain('<h1>Not Found</h1>');
    expect(page).toContain('There is no page at this address.');
    expect(page).toContain('<code>DCS_ERR_NOT_FOUND</code>');
    expect(page).toContain('<a href="/data/user-agents?q=x">Back to the previous page</a>');
    expect(page).toContain('<nav class="top">');
    expect(page).not.toContain('no-such-page');
    const anonymous = await (await get('/data/no-such-page', BROWSER)).text();
    expect(anonymous).toContain('<a href="/data/login">Log in</a>');
    expect(anonymous).not.toContain('<nav class="top">');
    const csrf = await fetch(`${server.baseUrl}/data/sources/add`, { method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: login.cookie, ...BROWSER }, body: 'source=P1&_csrf=stale' });
    expect(csrf.status).toBe(403);
    const csrfPage = await csrf.text();
    expect(csrfPage).toContain('The form has expired or did not come from this dashboard; reload the page and try again.');
    expect(csrfPage).toContain('<code>DCS_ERR_CSRF</code>');
  });

  it('answer JSON to API callers and `.json` routes, as before', async () => {
    const api = await get('/data/no-such-page', { cookie: login.cookie, accept: 'application/json' });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ message: 'Nothing at GET /data/no-such-page.', code: 'DCS_ERR_NOT_FOUND' });
    const json = await get('/data/no-such.json', { cookie: login.cookie, ...BROWSER });
    expect(json.status).toBe(404);
    expect((await json.json()).code).toBe('DCS_ERR_NOT_FOUND');
    const csrf = await fetch(`${server.baseUrl}/data/logout`, { method: 'POST', headers: { ...FORM, cookie: login.cookie }, body: '' });
    expect(await csrf.json()).toEqual({ message: 'The form has expired or did not come from this dashboard; reload the page and try again.', code: 'DCS_ERR_CSRF' });
  });

  it('refuse a form body over 16 KB with 413, before reading it (HTML for browsers, JSON otherwise)', async () => {
    const big = `username=ana&password=${'x'.repeat(1024 * 1024)}`;
    const json = await fetch(`${server.baseUrl}/data/login`, { method: 'POST', headers: FORM, body: big });
    expect(json.status).toBe(413);
    expect(await json.json()).toEqual({ message: "Larger than this form's limit of 16384 bytes.", code: 'DCS_ERR_BODY_TOO_LARGE' });
    // 100 MB announced, 64 KB sent: the reply comes without the rest.
    const partly = await postPartly(server.port, '/data/login', 100 * 1024 * 1024, 64 * 1024);
    expect(partly.status).toBe(413);
    expect(partly.body).toContain('<code>DCS_ERR_BODY_TOO_LARGE</code>');
    // A logged-in form too; nothing was changed.
    const add = await fetch(`${server.baseUrl}/data/sources/add`, {
      method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: login.cookie },
      body: new URLSearchParams({ _csrf: login.csrf, source: 'P-big', name: 'n'.repeat(20_000) }).toString(),
    });
    expect(add.status).toBe(413);
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM data_sources WHERE source = 'P-big'`);
    expect(rows[0].n).toBe(0);
  });
});
