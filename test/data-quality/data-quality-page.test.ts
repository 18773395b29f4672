/**
 * The Data quality page's exclusion rules over HTTP with a real login: staff read them,
 * administrators make (from a prefilled link too), remove and bring back rules with the CSRF
 * token; what participants or staff typed is escaped; a refused rule keeps the form filled in.
 * Administrators edit a rule in the same form, filled in with it; the history shows each version.
 */
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, logIn, type Login } from '../helpers/staff.ts';

const server = useTestServer();

const post = (login: Login, path: string, fields: Record<string, string>, csrf = login.csrf) => fetch(`${server.baseUrl}${path}`, {
  method: 'POST', redirect: 'manual',
  headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
});
const page = async (login: Login, query = '') => (await fetch(`${server.baseUrl}/data/data-quality${query}`, { headers: { cookie: login.cookie } })).text();

describe('the Data quality page', () => {
  it('lets an administrator make, remove and bring back a rule, and staff read them', async () => {
    const admin = await logIn(server.baseUrl, ...Object.values(await createStaff(server.db.pool, 'ana', 'correct horse', true)) as [string, string]);
    const staff = await logIn(server.baseUrl, ...Object.values(await createStaff(server.db.pool, 'bo', 'battery staple', false)) as [string, string]);

    // a flag's link fills the form in
    const prefilled = await page(admin, '?source=dev-01&reason=test%20install');
    expect(prefilled).toContain('name="source" value="dev-01"');
    expect(prefilled).toContain('name="reason" value="test install"');

    const made = await post(admin, '/data/data-quality/rules', { source: 'dev-01', reason: 'the team\'s <script>alert(1)</script> install', user_agent: '', type: '', from: '', to: '', group: '' });
    expect(made.status).toBe(303);
    const listed = await page(staff);
    expect(listed).toContain('source &quot;dev-01&quot;');
    expect(listed).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(listed).not.toContain('<script>alert(1)');
    expect(listed).toContain('Only an administrator can make, edit or remove rules.');
    const { rows: [rule] } = await server.db.pool.query('SELECT id::int, created_by FROM exclusion_rules');
    expect(rule.created_by).toBe('ana');

    // staff may not change rules; without the CSRF token nobody may
    expect((await post(staff, '/data/data-quality/rules/remove', { id: String(rule.id) })).status).toBe(403);
    expect((await post(admin, '/data/data-quality/rules/remove', { id: String(rule.id) }, 'wrong')).status).toBe(403);
    const removed = await post(admin, '/data/data-quality/rules/remove', { id: String(rule.id) });
    expect(removed.status).toBe(303);
    expect(await page(admin, new URL(removed.headers.get('location')!, server.baseUrl).search)).toContain(`Exclusion rule ${rule.id} no longer applies`);
    expect((await post(admin, '/data/data-quality/rules/enable', { id: String(rule.id) })).status).toBe(303);
    const { rows: history } = await server.db.pool.query('SELECT action FROM exclusion_rule_history WHERE rule_id = $1 ORDER BY changed_at', [rule.id]);
    expect(history.map((h) => h.action)).toEqual(['created', 'disabled', 'enabled']);
    expect(await page(staff)).toMatch(/disabled by ana[\s\S]*enabled by ana/);
  });

  it('refuses a rule without a condition or with a bad pattern, keeping what was typed', async () => {
    const admin = await logIn(server.baseUrl, ...Object.values(await createStaff(server.db.pool, 'cy', 'correct horse', true)) as [string, string]);
    const none = await post(admin, '/data/data-quality/rules', { reason: 'why' });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('A rule needs at least one condition');
    const bad = await post(admin, '/data/data-quality/rules', { user_agent: '(Headless', reason: 'bots' });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('not a regular expression');
    expect(text).toContain('name="user_agent" value="(Headless"');
  });

  it('lets an administrator edit a rule in the prefilled form, refuses a bad edit, and shows each version in the history', async () => {
    const admin = await logIn(server.baseUrl, ...Object.values(await createStaff(server.db.pool, 'di', 'correct horse', true)) as [string, string]);
    const staff = await logIn(server.baseUrl, ...Object.values(await createStaff(server.db.pool, 'ed', 'battery staple', false)) as [string, string]);
    expect((await post(admin, '/data/data-quality/rules', { source: 'dev-09', type: 'webmunk-history-visit', from: '2026-01-01', to: '2026-02-01T12:30:00Z', reason: 'test install' })).status).toBe(303);
    const { rows: [{ id }] } = await server.db.pool.query(`SELECT id::int FROM exclusion_rules WHERE source = 'dev-09'`);
    const stored = async () => (await server.db.pool.query('SELECT * FROM exclusion_rules WHERE id = $1', [id])).rows[0];
    const original = await stored();

    // the Edit link opens the form filled in with the rule, its times as typed
    const listed = await page(admin);
    expect(listed).toContain(`href="/data/data-quality?edit=${id}#rule-form"`);
    const form = await page(admin, `?edit=${id}`);
    expect(form).toContain(`Edit rule ${id}`);
    expect(form).toContain('action="/data/data-quality/rules/edit"');
    expect(form).toContain(`name="id" value="${id}"`);
    for (const [name, value] of [['source', 'dev-09'], ['group', ''], ['type', 'webmunk-history-visit'], ['from', '2026-01-01'], ['to', '2026-02-01T12:30:00Z'], ['reason', 'test install']]) {
      expect(form).toContain(`name="${name}" value="${value}"`);
    }
    expect((await fetch(`${server.baseUrl}/data/data-quality?edit=999999`, { headers: { cookie: admin.cookie } })).status).toBe(404);
    expect(await page(staff, `?edit=${id}`)).not.toContain('rules/edit');

    // staff may not edit; without the CSRF token nobody may; a bad edit is refused with what was typed
    const edit = { id: String(id), source: 'dev-09', type: '', from: '', to: '2026-03-01', reason: 'test install, every type' };
    expect((await post(staff, '/data/data-quality/rules/edit', edit)).status).toBe(403);
    expect((await post(admin, '/data/data-quality/rules/edit', edit, 'wrong')).status).toBe(403);
    const bad = await post(admin, '/data/data-quality/rules/edit', { ...edit, user_agent: '(Headless' });
    expect(bad.status).toBe(400);
    const refused = await bad.text();
    expect(refused).toContain('not a regular expression');
    expect(refused).toContain(`Edit rule ${id}`);
    expect(refused).toContain('name="user_agent" value="(Headless"');
    expect(refused).toContain('name="reason" value="test install, every type"');
    expect((await post(admin, '/data/data-quality/rules/edit', { ...edit, source: '', to: '' })).status).toBe(400);
    expect(await stored()).toEqual(original);

    const saved = await post(admin, '/data/data-quality/rules/edit', edit);
    expect(saved.status).toBe(303);
    expect(await page(admin, new URL(saved.headers.get('location')!, server.baseUrl).search)).toContain(`Exclusion rule ${id} saved`);
    expect(await stored()).toMatchObject({
      source: 'dev-09', generator_id: null, created_from: null, created_to: new Date('2026-03-01T00:00:00Z'), reason: 'test install, every type', enabled: true, updated_by: 'di',
    });
    const unknown = await post(admin, '/data/data-quality/rules/edit', { ...edit, id: '999999' });
    expect(unknown.status).toBe(303);
    expect(unknown.headers.get('location')).toContain('failed=unknown-rule');
    // the history shows the rule before and after, in order
    expect(await page(staff)).toMatch(new RegExp(
      'created by di: source &quot;dev-09&quot;, type webmunk-history-visit, created 2026-01-01T00:00:00.000Z to 2026-02-01T12:30:00.000Z, &quot;test install&quot;'
      + '[^<]*</li>\\s*<li>[^<]*edited by di: source &quot;dev-09&quot;, created any time to 2026-03-01T00:00:00.000Z, &quot;test install, every type&quot;'));
  });
});
