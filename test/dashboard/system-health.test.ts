/**
 * /data/system-health over real HTTP and PostgreSQL: key figures, snapshot charts, job history,
 * errored bundles and their Reprocess action (administrators only, CSRF-checked).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../src/jobs/job-list.ts';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { queueReprocessBundles } from '../../src/processing/reprocess.ts';
import { FORM } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';
import { hoursAgo, pointAt, runOk } from '../monitoring/support.ts';
import { bundle, postGzip } from '../processing/support.ts';

describe('system health page', () => {
  const server = useTestServer();
  let admin: Login;
  let staff: Login;

  beforeAll(async () => {
    await createStaff(server.db.pool, 'admin', 'admin password', true);
    await createStaff(server.db.pool, 'viewer', 'viewer password', false);
    admin = await logIn(server.baseUrl, 'admin', 'admin password');
    staff = await logIn(server.baseUrl, 'viewer', 'viewer password');
  });

  const get = async (login: Login, path = '/data/system-health') => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { cookie: login.cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const reprocess = (login: Login, fields: Array<[string, string]>) => fetch(`${server.baseUrl}/data/system-health/reprocess`, {
    method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: login.cookie }, body: new URLSearchParams(fields).toString(),
  });
  /** A figure's value: <dt>label</dt><dd>value</dd>. */
  const figure = (page: string, label: string) => new RegExp(`<dt>${label}</dt><dd>([^<]*)</dd>`).exec(page)?.[1];

  /** An upload left pending, then marked as if its processing had failed `attempts` times. */
  async function failedBundle(source: string, attempts = 3, error = 'simulated failure: invalid input syntax'): Promise<number> {
    const id = await postGzip(server, [pointAt(source, hoursAgo(1)), pointAt(source, hoursAgo(2))]);
    // sources as a bundle processed once (e.g. before a reprocess) has them.
    await server.db.pool.query(
      `UPDATE bundles SET status = 'errored', attempts = $2, error = $3, processed_at = now(), sources = ARRAY[$4] WHERE id = $1`,
      [id, attempts, error, source],
    );
    return id;
  }

  /** An upload that could not be decoded: errored with no attempt, holding the raw request. */
  async function undecodableBundle(): Promise<number> {
    const { rows } = await server.db.pool.query(
      `INSERT INTO bundles (endpoint, transport, content_type, body, status, error) VALUES ('bundle', 'form', 'text/plain', 'not a payload', 'errored', 'Unable to parse data bundle.')
       RETURNING id::int`,
    );
    return rows[0].id;
  }

  it('says when there are no snapshots yet and lists every job', async () => {
    const page = await get(admin);
    expect(page).toContain('<title>System health · Webmunk DCS</title>');
    expect(page).toContain('href="/data/system-health" aria-current="page"');
    expect(page).toContain('No server-health snapshots yet');
    expect(page).toContain('every 15 minutes');
    expect(page).toContain('dcs run-job server-health');
    expect(page).not.toContain('<svg class="chart');
    for (const job of JOBS) expect(page).toContain(`<code>${job.name}</code>`);
    expect(page).toContain('every 5 minutes');
    expect(page).toContain('No job has run yet.');
    expect(page).toContain('No errored bundles.');
  });

  it('shows the key figures, 24 hours of charts and the job history', async () => {
    await postGzip(server, [pointAt('sh-a', hoursAgo(1)), pointAt('sh-a', hoursAgo(2)), pointAt('sh-b', hoursAgo(1))]);
    await runOk(server.db.pool, server.config, serverHealthJob);
    await server.process();
    const pending = await postGzip(server, [pointAt('sh-c', hoursAgo(1))]);
    await server.db.pool.query(`UPDATE bundles SET received_at = now() - interval '10 minutes' WHERE id = $1`, [pending]);
    await runOk(server.db.pool, server.config, serverHealthJob);
    await runOk(server.db.pool, server.config, sourceStatisticsJob);
    // An older snapshot inside the window and one outside it.
    await server.db.pool.query(
      `INSERT INTO server_health_snapshots (taken_at, bundles_received, bundles_added, bundles_pending, bundles_errored, points_total, points_added, processing_lag_seconds)
       VALUES (now() - interval '5 hours', 0, 7, 2, 0, 0, 40, 30), (now() - interval '30 hours', 0, 99, 9, 0, 0, 999, 999)`,
    );

    const page = await get(admin);
    expect(figure(page, 'Bundles received')).toBe('2');
    expect(figure(page, 'Pending')).toBe('1');
    expect(figure(page, 'Errored')).toBe('0');
    expect(figure(page, 'Processed')).toBe('1');
    expect(figure(page, 'Points stored')).toBe('3');
    expect(figure(page, 'Processing lag')).toBe('10 min');
    expect(page).not.toContain('No server-health snapshots yet');

    const charts = [...page.matchAll(/<svg class="([^"]+)"[^>]*aria-label="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(charts.map(([className]) => className)).toEqual(['chart', 'chart chart-second', 'chart', 'chart']);
    // The 30-hour-old snapshot is outside the window; totals are over the other three.
    expect(charts[0][1]).toBe('Bundles received per snapshot: 8 in all, at most 7 per bucket');
    // The two fresh snapshots usually share a 15-minute slot, where a gauge keeps the later value.
    expect(charts[1][1]).toMatch(/^Bundles pending: [34] in all, at most 2 per bucket$/);
    expect(charts[2][1]).toBe('Points added per snapshot: 43 in all, at most 40 per bucket');
    expect(charts[3][1]).toMatch(/^Processing lag in minutes: /);
    expect(page).toContain('<span class="swatch second"></span>');
    expect(page).toMatch(/<text class="tick-label"[^>]*>\d\d:00<\/text>/);
    const tickHours = [...page.matchAll(/<text class="tick-label"[^>]*>(\d\d):00<\/text>/g)].map((m) => Number(m[1]));
    expect(tickHours.length).toBeGreaterThanOrEqual(8);
    expect(tickHours.every((h) => h % 3 === 0)).toBe(true);

    // Job history: the latest run of each job that ran, and the runs with their counts.
    expect(page).toContain('<span class="outcome-succeeded">succeeded</span>');
    expect(page).toMatch(/<code>server-health<\/code><\/td><td>cli<\/td>/);
    // counts are jsonb (its own key order): look for each pair.
    for (const pair of ['bundlesReceived: 2', 'bundlesAdded: 1', 'pointsAdded: 3', 'pruned: 0']) expect(page).toContain(pair);
    expect(page).toMatch(/<code>source-statistics<\/code><\/td><td>cli<\/td>/);
  });

  it('lists errored bundles; an administrator reprocesses the chosen ones and the worker processes them again', async () => {
    await server.process();
    const failed = await failedBundle('sh-err', 3, 'simulated failure <b>not bold</b>');
    const other = await failedBundle('sh-err2');
    const raw = await undecodableBundle();

    // What ERRORED_UPLOADS_MAX_BYTES let in, and what it refused (kept by the upload path, ingest tests).
    await server.db.pool.query('UPDATE errored_upload_totals SET stored_bytes = 2048, refused_uploads = 4');
    const page = await get(admin);
    expect(figure(page, 'Errored')).toBe('3');
    expect(figure(page, 'Undecodable uploads kept')).toBe('2.0 KB');
    expect(page).toContain('4 more not kept: the limit of 1.0 GB is reached');
    expect(page).toContain('3 bundles in all');
    expect(page).toContain('simulated failure &lt;b&gt;not bold&lt;/b&gt;');
    expect(page).toContain(`<input type="checkbox" name="bundle" value="${failed}"`);
    expect(page).toContain(`<input type="checkbox" name="bundle" value="${other}"`);
    // The undecodable upload holds the raw request: listed, but not offered for reprocessing.
    expect(page).not.toContain(`name="bundle" value="${raw}"`);
    expect(page).toContain('Undecodable at upload (holds the raw request): not reprocessable.');
    expect(page).toContain('href="/data/source/sh-err"');
    expect(page).toContain('<form method="post" action="/data/system-health/reprocess"><input type="hidden" name="_csrf" value="');
    expect(page).toContain('Reprocess selected');
    expect(page).toContain('Reprocess all 2 errored bundles');

    const response = await reprocess(admin, [['_csrf', admin.csrf], ['bundle', String(failed)], ['bundle', String(raw)], ['bundle', 'junk']]);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/data/system-health?reprocessed=1');
    expect(await bundle(server, failed)).toMatchObject({ status: 'pending', error: null, attempts: 0 });
    expect((await bundle(server, other)).status).toBe('errored');
    expect(await bundle(server, raw)).toMatchObject({ status: 'errored', attempts: 0 });

    const after = await get(admin, '/data/system-health?reprocessed=1');
    expect(after).toContain('<p class="notice" role="status">1 bundle queued for processing again.</p>');
    expect(figure(after, 'Pending')).toBe('1');

    await server.process();
    expect(await bundle(server, failed)).toMatchObject({ status: 'processed', point_count: 2, points_added: 2 });
  });

  it('reprocesses all errored bundles at once, still leaving the undecodable ones', async () => {
    const response = await reprocess(admin, [['_csrf', admin.csrf], ['all', '1']]);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/data/system-health?reprocessed=1');
    const notice = await get(admin, '/data/system-health?reprocessed=3');
    expect(notice).toContain('3 bundles queued for processing again.');
    await server.process();
    const { rows } = await server.db.pool.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'errored'`);
    expect(rows[0].n).toBe(1);
    const page = await get(admin);
    expect(page).toContain('1 bundle in all');
    expect(page).not.toContain('Reprocess all');
    expect(await queueReprocessBundles(server.db.pool, [])).toBe(0);
  });

  it('shows no Reprocess to staff who are not administrators, and refuses their POST', async () => {
    const id = await failedBundle('sh-viewer', 1);
    const page = await get(staff);
    expect(page).toContain('simulated failure');
    expect(page).not.toContain('Reprocess selected');
    expect(page).not.toContain('name="bundle"');
    expect(page).not.toContain('action="/data/system-health/reprocess"');
    expect(page).toContain('Only an administrator can reprocess bundles.');

    const response = await reprocess(staff, [['_csrf', staff.csrf], ['bundle', String(id)]]);
    expect(response.status).toBe(403);
    expect((await response.json()).code).toBe('DCS_ERR_FORBIDDEN');
    expect((await bundle(server, id)).status).toBe('errored');
  });

  it('refuses a POST without the CSRF token', async () => {
    const { rows } = await server.db.pool.query(`SELECT id::int FROM bundles WHERE status = 'errored' AND attempts > 0 LIMIT 1`);
    const missing = await reprocess(admin, [['bundle', String(rows[0].id)]]);
    expect(missing.status).toBe(403);
    expect((await missing.json()).code).toBe('DCS_ERR_CSRF');
    const wrong = await reprocess(admin, [['_csrf', staff.csrf], ['all', '1']]);
    expect(wrong.status).toBe(403);
    expect((await bundle(server, rows[0].id)).status).toBe('errored');
  });
});
