/**
 * /data/donations over real HTTP and PostgreSQL: the settings notice, counts per source and state,
 * the requests with their files (newest first, filtered, paginated, hostile names escaped), the
 * re-run of a refused import (administrators, CSRF, only refused files whose bytes are kept) and the
 * donation sources' names and instructions. Requests and files are written with SQL in the states
 * the upload flow and the worker leave them in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FORM } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { hoursAgo, insertFile, insertRequest, openDonationSettings } from './donations-support.ts';

const HOSTILE = '<script>alert(1)</script>';

describe('Donations page', () => {
  const server = useTestServer({ ...openDonationSettings(), TIME_ZONE: 'UTC' });
  let admin: Login;
  let staff: Login;
  const files: Record<string, number> = {};

  beforeAll(async () => {
    const pool = server.db.pool;
    await createStaff(pool, 'admin', 'admin password', true);
    await createStaff(pool, 'viewer', 'viewer password', false);
    admin = await logIn(server.baseUrl, 'admin', 'admin password');
    staff = await logIn(server.baseUrl, 'viewer', 'viewer password');
    await pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('40172630', now())`);
    const a = await insertRequest(pool, '40172630', ['amazon', 'chatgpt'], hoursAgo(50));
    files.imported = await insertFile(pool, a, { state: 'imported', name: 'Retail.OrderHistory.1.csv', uploadedAt: hoursAgo(49), rowsExtracted: 120, rowsConfirmed: 118, points: 236 });
    files.refused = await insertFile(pool, a, {
      state: 'refused', source: 'chatgpt', name: `chat${HOSTILE}.zip`, uploadedAt: hoursAgo(2), chunks: 2,
      participantMessage: `This is not a ChatGPT export ${HOSTILE}`, staffReason: `no conversations.json in the ZIP ${HOSTILE}`, attempts: 3,
    });
    const b = await insertRequest(pool, '58113204', ['amazon'], hoursAgo(30));
    files.awaiting = await insertFile(pool, b, { state: 'awaiting-confirmation', name: 'orders-2024.csv', uploadedAt: hoursAgo(1), rowsExtracted: 42 });
    files.refusedGone = await insertFile(pool, b, { state: 'refused', name: 'photo.png', uploadedAt: hoursAgo(20), participantMessage: 'This is a picture, not the CSV.', staffReason: 'not CSV: the content is a PNG image' });
    await insertRequest(pool, '77310058', ['amazon'], hoursAgo(10));
  });

  const get = async (login: Login, path = '/data/donations') => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const post = (login: Login, path: string, fields: Record<string, string>) => fetch(`${server.baseUrl}${path}`, {
    method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: login.cookie, accept: 'text/html' }, body: new URLSearchParams(fields).toString(),
  });
  const fileState = async (id: number) => (await server.db.pool.query('SELECT state, participant_message, staff_reason, attempts FROM donation_files WHERE id = $1', [id])).rows[0];
  /** The participants listed, in page order. */
  const participants = (page: string) => [...page.matchAll(/<tr class="request-start"[^>]*><td rowspan="\d+" class="mono">(?:<a [^>]*>|<span [^>]*>)([^<]+)</g)].map((m) => m[1]);

  it('is in the navigation and says that uploads are open, for which sources, and that the worker key is missing here', async () => {
    const page = await get(staff);
    expect(page).toContain('<a href="/data/donations" aria-current="page">Donations</a>');
    // no PDK_EXTERNAL_CONTENT_PUBLIC_KEY: ChatGPT is enabled but not offered
    expect(page).toMatch(/Uploads are open for <strong>Amazon Order History<\/strong>\./);
    expect(page).toContain('ChatGPT conversations (<code>chatgpt</code>) is enabled but not offered: PDK_EXTERNAL_CONTENT_PUBLIC_KEY is not set');
    expect(page).toContain('This process has no <code>DONATION_SECRET_KEY</code>');
    expect(page).toContain('no page offers a download');
    expect(page).not.toMatch(/href="[^"]*download/);
  });

  it('counts files per source and state, and requests per source', async () => {
    const page = await get(staff);
    const row = (name: string) => new RegExp(`<tr><th scope="row">${name} .*?</tr>`, 's').exec(page)?.[0] ?? '';
    const cells = (text: string) => [...text.matchAll(/<td class="num">(?:<span class="muted">)?([\d,]+)/g)].map((m) => Number(m[1]));
    // Requests, then receiving, received, extracting, awaiting, imported, refused, expired
    expect(cells(row('Amazon Order History'))).toEqual([3, 0, 0, 0, 1, 1, 1, 0]);
    expect(cells(row('ChatGPT conversations'))).toEqual([1, 0, 0, 0, 0, 0, 1, 0]);
    expect(page).toContain('3 participants have a donation request');
  });

  it('lists requests newest activity first with their files, counts and messages, linking known sources', async () => {
    const page = await get(staff);
    expect(participants(page)).toEqual(['58113204', '40172630', '77310058']);
    expect(page).toContain('<a href="/data/source/40172630">40172630</a>');
    // not a source of the dashboard: no link to a 404
    expect(page).not.toContain('href="/data/source/58113204"');
    expect(page).toContain('120 rows extracted, 118 confirmed, 236 points');
    expect(page).toContain('Amazon Order History, ChatGPT conversations');
    expect(page).toContain('not CSV: the content is a PNG image');
    expect(page).toContain('This is a picture, not the CSV.');
    expect(page).toMatch(/<td class="num nowrap">47 KB<\/td>/);
    expect(page).toContain('No file yet.');
  });

  it('escapes hostile file names, messages and reasons', async () => {
    const page = await get(admin);
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('chat&lt;script&gt;alert(1)&lt;/script&gt;.zip');
    expect(page).toContain('no conversations.json in the ZIP &lt;script&gt;');
    expect(page).toContain('This is not a ChatGPT export &lt;script&gt;');
  });

  it('filters by state and by participant', async () => {
    const refused = await get(staff, '/data/donations?state=refused');
    expect(participants(refused)).toEqual(['58113204', '40172630']);
    expect(refused).toContain('photo.png');
    expect(refused).not.toContain('orders-2024.csv');
    expect(refused).not.toContain('Retail.OrderHistory.1.csv');
    expect(refused).toContain('<option value="refused" selected>');
    expect(participants(await get(staff, '/data/donations?state=none'))).toEqual(['77310058']);
    expect(participants(await get(staff, '/data/donations?state=awaiting-confirmation'))).toEqual(['58113204']);
    const one = await get(staff, '/data/donations?participant=40172630');
    expect(participants(one)).toEqual(['40172630']);
    expect(one).toContain('Retail.OrderHistory.1.csv');
    // an unknown state is no filter
    expect(participants(await get(staff, '/data/donations?state=bogus'))).toHaveLength(3);
    expect(await get(staff, '/data/donations?participant=nobody')).toContain('No donation request matches');
  });

  it('shows the re-run button only to administrators, for a refused file whose bytes are kept', async () => {
    const adminPage = await get(admin);
    expect(adminPage).toContain(`action="/data/donations/files/${files.refused}/rerun"`);
    expect(adminPage).not.toContain(`action="/data/donations/files/${files.refusedGone}/rerun"`);
    expect(adminPage).toContain('file deleted: cannot re-run');
    expect(adminPage).not.toContain(`action="/data/donations/files/${files.imported}/rerun"`);
    const staffPage = await get(staff);
    expect(staffPage).not.toContain('/rerun"');
    expect(staffPage).toContain('an administrator can re-run it');
  });

  it('refuses a re-run without the CSRF token or by staff who are not administrators, changing nothing', async () => {
    const noToken = await post(admin, `/data/donations/files/${files.refused}/rerun`, {});
    expect(noToken.status).toBe(403);
    const byStaff = await post(staff, `/data/donations/files/${files.refused}/rerun`, { _csrf: staff.csrf });
    expect(byStaff.status).toBe(403);
    expect((await fileState(files.refused)).state).toBe('refused');
  });

  it('does not re-run a file that is not refused, or whose bytes are gone', async () => {
    for (const id of [files.imported, files.awaiting, files.refusedGone, 999_999]) {
      const response = await post(admin, `/data/donations/files/${id}/rerun`, { _csrf: admin.csrf, return: '/data/donations?state=refused' });
      expect(response.status).toBe(303);
      const location = response.headers.get('location')!;
      expect(location).toMatch(/^\/data\/donations\?state=refused&failed=donation-not-rerunnable/);
      expect(await get(admin, location)).toContain('That file cannot be imported again');
    }
    expect((await fileState(files.imported)).state).toBe('imported');
    expect((await fileState(files.awaiting)).state).toBe('awaiting-confirmation');
    expect((await fileState(files.refusedGone)).state).toBe('refused');
  });

  it('re-runs a refused import: back to received, messages and attempts cleared, with a notice', async () => {
    const response = await post(admin, `/data/donations/files/${files.refused}/rerun`, { _csrf: admin.csrf, return: '/data/donations?participant=40172630' });
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location).toMatch(/^\/data\/donations\?participant=40172630&done=donation-rerun/);
    expect(await fileState(files.refused)).toEqual({ state: 'received', participant_message: null, staff_reason: null, attempts: 0 });
    const page = await get(admin, location);
    expect(page).toContain(`Import of file ${files.refused} of 40172630 queued again`);
    expect(page).toContain('waiting for import');
    // once is enough: it is no longer refused
    const again = await post(admin, `/data/donations/files/${files.refused}/rerun`, { _csrf: admin.csrf });
    expect(again.headers.get('location')).toMatch(/failed=donation-not-rerunnable/);
  });

  it('pages through thousands of requests, 50 a page, keeping the filter', async () => {
    await server.db.pool.query(
      `INSERT INTO donation_requests (identifier, requested_at) SELECT 'bulk-' || lpad(n::text, 4, '0'), now() - interval '100 days' + n * interval '1 minute' FROM generate_series(1, 1200) n`,
    );
    const first = await get(staff, '/data/donations?state=none');
    expect(first).toContain('1,201 requests with files none yet');
    expect(participants(first)).toHaveLength(50);
    expect(participants(first)[0]).toBe('77310058');
    expect(participants(first)[1]).toBe('bulk-1200');
    expect(first).toContain('href="/data/donations?state=none&amp;page=2#requests"');
    const last = await get(staff, '/data/donations?state=none&page=25');
    expect(participants(last)).toEqual(['bulk-0001']);
    // a page past the end shows the last one
    expect(participants(await get(staff, '/data/donations?state=none&page=99'))).toEqual(['bulk-0001']);
  });

  it('lets administrators edit a donation source\'s name and instructions, as plain text', async () => {
    const instructions = `Open Amazon, choose Account → Order history reports.\r\n\r\nDownload the Items report. ${HOSTILE}`;
    const response = await post(admin, '/data/donations/sources', { _csrf: admin.csrf, source: 'amazon', name: 'Amazon orders', instructions });
    expect(response.status).toBe(303);
    const { rows: [saved] } = await server.db.pool.query(`SELECT name, instructions FROM donation_sources WHERE identifier = 'amazon'`);
    expect(saved).toEqual({ name: 'Amazon orders', instructions: instructions.replace(/\r\n/g, '\n') });
    const page = await get(admin, response.headers.get('location')!);
    expect(page).toContain('Donation source Amazon orders saved.');
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('Download the Items report. &lt;script&gt;');
    // staff read them
    const staffPage = await get(staff);
    expect(staffPage).toContain('<pre class="instructions">Open Amazon');
    expect(staffPage).not.toContain('action="/data/donations/sources"');
  });

  it('refuses bad source edits, edits by staff and edits without CSRF, changing nothing', async () => {
    const before = (await server.db.pool.query(`SELECT name, instructions FROM donation_sources WHERE identifier = 'amazon'`)).rows[0];
    const attempts: Array<[Login, Record<string, string>, number, RegExp?]> = [
      [admin, { _csrf: admin.csrf, source: 'amazon', name: '', instructions: 'x' }, 303, /failed=donation-source-invalid/],
      [admin, { _csrf: admin.csrf, source: 'amazon', name: 'x'.repeat(101), instructions: 'x' }, 303, /failed=donation-source-invalid/],
      [admin, { _csrf: admin.csrf, source: 'amazon', name: 'two\nlines', instructions: 'x' }, 303, /failed=donation-source-invalid/],
      [admin, { _csrf: admin.csrf, source: 'amazon', name: 'Amazon', instructions: 'x'.repeat(4001) }, 303, /failed=donation-source-invalid/],
      [admin, { _csrf: admin.csrf, source: 'amazon', name: 'Amazon', instructions: 'bell \u0007' }, 303, /failed=donation-source-invalid/],
      [admin, { _csrf: admin.csrf, source: 'facebook', name: 'Facebook', instructions: '' }, 303, /failed=unknown-donation-source/],
      [staff, { _csrf: staff.csrf, source: 'amazon', name: 'Staff edit', instructions: '' }, 403],
      [admin, { source: 'amazon', name: 'No token', instructions: '' }, 403],
    ];
    for (const [login, fields, status, location] of attempts) {
      const response = await post(login, '/data/donations/sources', fields);
      expect(response.status, JSON.stringify(fields).slice(0, 80)).toBe(status);
      if (location) expect(response.headers.get('location')).toMatch(location);
    }
    const invalid = await post(admin, '/data/donations/sources', { _csrf: admin.csrf, source: 'amazon', name: '', instructions: '' });
    expect(await get(admin, invalid.headers.get('location')!)).toContain('Not saved: a name is one line of 1 to 100 characters.');
    expect((await server.db.pool.query(`SELECT name, instructions FROM donation_sources WHERE identifier = 'amazon'`)).rows[0]).toEqual(before);
    expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM donation_sources`)).rows[0].n).toBe(2);
  });
  it('shows a Donations panel on the source page of a participant with a request, and none otherwise', async () => {
    const page = await get(admin, '/data/source/40172630');
    const panel = /<section class="panel" id="donations">.*?<\/section>/s.exec(page)?.[0] ?? '';
    expect(panel).toContain('Amazon orders, ChatGPT conversations');
    expect(panel).toContain('Retail.OrderHistory.1.csv');
    expect(panel).toContain('120 rows extracted, 118 confirmed, 236 points');
    expect(panel).toContain('<a href="/data/donations?participant=40172630">On the Donations page</a>');
    expect(panel).not.toContain(HOSTILE);
    expect(panel).toContain('chat&lt;script&gt;alert(1)&lt;/script&gt;.zip');
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('90000001', now())`);
    expect(await get(admin, '/data/source/90000001')).not.toContain('id="donations"');
  });

  it('sends a re-run from the source panel back to the Donations page filtered to the participant', async () => {
    const refused = await insertFile(server.db.pool, (await server.db.pool.query(`SELECT id::int FROM donation_requests WHERE identifier = '40172630'`)).rows[0].id,
      { state: 'refused', name: 'again.csv', uploadedAt: hoursAgo(0.5), staffReason: 'DONATION_HASH_KEY is not set', chunks: 1 });
    const panel = await get(admin, '/data/source/40172630');
    const form = new RegExp(`<form method="post" action="/data/donations/files/${refused}/rerun".*?</form>`, 's').exec(panel)?.[0] ?? '';
    const back = /name="return" value="([^"]+)"/.exec(form)?.[1];
    expect(back).toBe('/data/donations?participant=40172630');
    const response = await post(admin, `/data/donations/files/${refused}/rerun`, { _csrf: admin.csrf, return: back! });
    expect(response.headers.get('location')).toMatch(/^\/data\/donations\?participant=40172630&done=donation-rerun/);
    expect((await fileState(refused)).state).toBe('received');
  });

  it('puts a Donations line on System health: uploads, files waiting and the oldest, awaiting confirmation, refused this week', async () => {
    const page = await get(staff, '/data/system-health');
    const line = /<section class="panel" id="donations">.*?<\/section>/s.exec(page)?.[0] ?? '';
    // the two re-run files wait; the older was uploaded 2 hours ago: no worker is importing
    expect(line).toMatch(/<p class="notice error" role="alert">Uploads open \(amazon\)\. 2 files waiting to be imported, the oldest uploaded 2\.0 h ago; 1 file awaiting the participant's confirmation;\s+1 file refused in the last 7 days\. Is a worker with DONATION_SECRET_KEY running\?<\/p>/);
    expect(line).toContain('<a href="/data/donations">Donations page</a>');
  });
});

describe('Donations page without the donation settings', () => {
  const server = useTestServer();
  let staff: Login;
  beforeAll(async () => {
    await createStaff(server.db.pool, 'viewer', 'viewer password', false);
    staff = await logIn(server.baseUrl, 'viewer', 'viewer password');
  });

  it('says that uploads are closed and which settings are missing', async () => {
    const page = await (await fetch(`${server.baseUrl}/data/donations`, { headers: { cookie: staff.cookie } })).text();
    expect(page).toContain('Uploads are closed');
    for (const name of ['PDK_EXTERNAL_CONTENT_SYMETRIC_KEY', 'DONATION_PUBLIC_KEY', 'DONATION_HASH_KEY']) expect(page).toContain(`<code>${name}</code>`);
    expect(page).toContain('No donation request yet');
    const health = await (await fetch(`${server.baseUrl}/data/system-health`, { headers: { cookie: staff.cookie } })).text();
    expect(health).toContain('<p class="notice" role="status">Uploads closed: PDK_EXTERNAL_CONTENT_SYMETRIC_KEY, DONATION_PUBLIC_KEY, DONATION_HASH_KEY not set. No file waiting to be imported; 0 files awaiting');
  });
});
