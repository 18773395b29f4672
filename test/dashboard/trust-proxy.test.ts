/**
 * TRUST_PROXY over real HTTP: which address the login limits and sessions see, and when a session
 * cookie is Secure. The test client connects from 127.0.0.1, as a proxy on the same machine would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaff, postLogin } from '../helpers/staff.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await createStaff(db.pool, 'ana', 'correct horse');
});
afterAll(async () => {
  await db?.drop();
});

/** Logs in through a server started with TRUST_PROXY=`trust`; the address its session records and its cookie. */
async function logInThrough(trust: string, headers: Record<string, string>): Promise<{ address: string; cookie: string }> {
  const server: TestServer = await startTestServer({ TRUST_PROXY: trust }, { db });
  try {
    const response = await postLogin(server.baseUrl, 'ana', 'correct horse', headers);
    expect(response.status).toBe(303);
    const { rows } = await db.pool.query('SELECT address FROM staff_sessions ORDER BY created_at DESC, address LIMIT 1');
    await db.pool.query('DELETE FROM staff_sessions');
    return { address: rows[0].address, cookie: response.headers.getSetCookie()[0] };
  } finally {
    await server.stop();
  }
}

const FORGED = { 'x-forwarded-for': '192.0.2.66, 198.51.100.20', 'x-forwarded-proto': 'https' };

describe('TRUST_PROXY', () => {
  it('true is one proxy: the client is the address that proxy appended, not a forged one to its left', async () => {
    const login = await logInThrough('true', FORGED);
    expect(login.address).toBe('198.51.100.20');
    expect(login.cookie).toContain('Secure');
  });

  it('a number of proxies: the client is that many addresses from the right', async () => {
    expect((await logInThrough('2', FORGED)).address).toBe('192.0.2.66');
  });

  it('proxy addresses: believed only from those proxies', async () => {
    const trusted = await logInThrough('10.0.0.0/8, 127.0.0.1', FORGED);
    expect(trusted.address).toBe('198.51.100.20');
    expect(trusted.cookie).toContain('Secure');
    const untrusted = await logInThrough('10.0.0.0/8', FORGED);
    expect(untrusted.address).toBe('127.0.0.1');
    expect(untrusted.cookie).not.toContain('Secure');
  });

  it('off: the socket address, headers ignored', async () => {
    const login = await logInThrough('false', FORGED);
    expect(login.address).toBe('127.0.0.1');
    expect(login.cookie).not.toContain('Secure');
  });
});

describe('login limits behind one proxy (TRUST_PROXY=true)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true' }, { db });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a forged left-most X-Forwarded-For does not choose the address the limits count', async () => {
    // The proxy appends the real client (203.0.113.9); the client varies what it sends itself.
    const from = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9` });
    for (let i = 0; i < 20; i += 1) expect((await postLogin(server.baseUrl, `spray${i}`, 'Winter2026', from(i))).status).toBe(401);
    expect((await postLogin(server.baseUrl, 'ana', 'correct horse', from(99))).status).toBe(429);
  });
});
