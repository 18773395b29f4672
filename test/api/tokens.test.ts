/**
 * API tokens as an administrator and a staff member get them: `dcs tokens` (shown once, stored
 * hashed, scoped, expiring, revocable), request-token.json under the dashboard's login limits, and
 * no token ever in the server's log.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runDcs, spawnDcs } from '../helpers/dcs.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { pdkPost, pyJson } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff, postLogin } from '../helpers/staff.ts';

const server = useTestServer({ API_TOKEN_HOURS: '2' });
const sources = (token: string) => pdkPost(server.baseUrl, '/api/data-sources.json', { token });
const update = (token: string) => pdkPost(server.baseUrl, '/api/data-sources/update.json', { token, filters: pyJson([{ identifier: '48213077' }]), updates: pyJson([{ group: 'Arm A' }]) });

describe('dcs tokens', () => {
  it('creates a token shown once on the last line, stored only as a hash, with the scope asked for', async () => {
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('48213077', now())`);
    const created = await runDcs(['tokens', 'create', 'enrollment-server', '--expires', '30', '--scope', 'read'], { databaseUrl: server.db.url });
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    const token = lines.at(-1)!;
    expect(token).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(lines[0]).toMatch(/created API token "enrollment-server" \(read, expires 20\d\d-/);
    const { rows } = await server.db.pool.query(`SELECT * FROM api_tokens WHERE name = 'enrollment-server'`);
    expect(rows).toHaveLength(1);
    // no column holds the token; the hash is its SHA-256
    expect(JSON.stringify(rows[0])).not.toContain(token);
    expect(Buffer.compare(rows[0].token_hash, createHash('sha256').update(token).digest())).toBe(0);
    const days = (rows[0].expires_at.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    expect((await sources(token)).status).toBe(200);
    expect((await update(token)).status).toBe(403);

    const list = await runDcs(['tokens', 'list'], { databaseUrl: server.db.url });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^enrollment-server\s+service\s+read\s+\w{6}…\s+expires 20\d\d-\S+\s+last used 20/m);
    expect(list.stdout).not.toContain(token);

    const again = await runDcs(['tokens', 'create', 'enrollment-server'], { databaseUrl: server.db.url });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/revoke it first/);

    const revoked = await runDcs(['tokens', 'revoke', 'enrollment-server'], { databaseUrl: server.db.url });
    expect(revoked.code).toBe(0);
    expect((await sources(token)).body.message).toMatch(/revoked/);
    expect((await runDcs(['tokens', 'revoke', 'enrollment-server'], { databaseUrl: server.db.url })).code).toBe(1);

    // the name is free again; without --expires a token never expires; read-write by default
    const forever = await runDcs(['tokens', 'create', 'enrollment-server'], { databaseUrl: server.db.url });
    expect(forever.code).toBe(0);
    const second = forever.stdout.trim().split('\n').at(-1)!;
    expect(forever.stdout).toMatch(/read-write, expires never/);
    expect((await update(second)).body).toEqual({ updated: 1 });
  });

  it('refuses bad arguments with the usage', async () => {
    for (const args of [['tokens'], ['tokens', 'create'], ['tokens', 'create', 'x', '--scope', 'admin'], ['tokens', 'create', 'x', '--expires', '0'], ['tokens', 'create', 'bad name'], ['tokens', 'list', 'extra']]) {
      const result = await runDcs(args, { databaseUrl: server.db.url });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.length, args.join(' ')).toBeGreaterThan(0);
    }
  });
});

describe('request-token.json', () => {
  const requestToken = (username: string, password: string, headers: Record<string, string> = {}) => pdkPost(server.baseUrl, '/api/request-token.json', { username, password }, headers);

  it('issues a staff member a token that lasts API_TOKEN_HOURS', async () => {
    await createStaff(server.db.pool, 'ana', 'correct horse', false);
    const reply = await requestToken('ana', 'correct horse');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body)).toEqual(['token', 'expires']);
    expect(reply.body.token).toMatch(/^[A-Za-z0-9]{64}$/);
    // Python's isoformat() of an aware UTC time, as the client parses it
    expect(reply.body.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    const hours = (Date.parse(reply.body.expires) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
    expect((await sources(reply.body.token)).status).toBe(200);
    // a second call issues another token; both work
    const next = await requestToken('ana', 'correct horse');
    expect(next.body.token).not.toBe(reply.body.token);
    expect((await sources(reply.body.token)).status).toBe(200);
  });

  it('answers wrong credentials 401 JSON and locks out after the dashboard\'s limit, for the dashboard too', async () => {
    await createStaff(server.db.pool, 'bo', 'battery staple', false);
    const address = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 5; i++) {
      const wrong = await requestToken('bo', `guess ${i}`, address);
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('DCS_ERR_LOGIN_FAILED');
    }
    const locked = await requestToken('bo', 'battery staple');
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('DCS_ERR_LOGIN_LOCKED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // the same account is locked on the login page
    expect((await postLogin(server.baseUrl, 'bo', 'battery staple')).status).toBe(429);
    const unknown = await requestToken('nobody', 'whatever');
    expect(unknown.status).toBe(401);
    const missing = await pdkPost(server.baseUrl, '/api/request-token.json', { username: 'ana' });
    expect(missing.status).toBe(400);
  });
});

describe('the server log', () => {
  it('records who called what, never a token', async () => {
    const db = await createTestDatabase();
    const dcs = spawnDcs(['serve'], { databaseUrl: db.url });
    try {
      const [, port] = await dcs.waitFor(/listening on http:\/\/[^:]+:(\d+)/);
      const baseUrl = `http://127.0.0.1:${port}`;
      const created = await runDcs(['tokens', 'create', 'enrollment'], { databaseUrl: db.url });
      const token = created.stdout.trim().split('\n').at(-1)!;
      await createStaff(db.pool, 'ana', 'correct horse', false);
      const staff = (await pdkPost(baseUrl, '/api/request-token.json', { username: 'ana', password: 'correct horse' })).body.token;
      expect((await pdkPost(baseUrl, '/api/data-points.json', { token, filters: pyJson([{ source: '48213077' }]) })).status).toBe(200);
      expect((await pdkPost(baseUrl, '/api/data-sources.json', {}, { authorization: `Bearer ${staff}` })).status).toBe(200);
      // a different last character: a fixed 'X' was the token's own last character once in 64 runs
      const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      expect((await pdkPost(baseUrl, '/api/data-sources.json', { token: forged })).status).toBe(401);
      await dcs.waitFor(/"api":"data-sources".*"token":"ana"/);
      const output = dcs.output();
      expect(output).toMatch(/"api":"data-points","token":"enrollment","tokenKind":"service","filters":\["source"\]/);
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.slice(0, 20));
      expect(output).not.toContain(staff);
      expect(output).not.toContain('correct horse');
    } finally {
      await dcs.stop();
      await db.drop();
    }
  }, 180_000);
});
