/** Dashboard logins for tests: a staff user, and a session cookie obtained through the real login form. */
import { expect } from 'vitest';
import type { Pool } from '../../src/db/database.ts';
import { insertUser } from '../../src/dashboard/auth/users.repository.ts';

export interface Login {
  /** the Cookie header value */
  cookie: string;
  /** the session's CSRF token, as the pages embed it */
  csrf: string;
}

export async function createStaff(pool: Pool, username = 'ana', password = 'correct horse', isAdmin = true): Promise<{ username: string; password: string }> {
  await insertUser(pool, { username, password, isAdmin });
  return { username, password };
}

/** POSTs the login form; returns the response without following the redirect. */
export function postLogin(baseUrl: string, username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/data/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ username, password, next: '/data/' }).toString(),
  });
}

/** Logs in and reads the CSRF token off the home page. */
export async function logIn(baseUrl: string, username: string, password: string): Promise<Login> {
  const response = await postLogin(baseUrl, username, password);
  expect(response.status).toBe(303);
  const cookie = response.headers.getSetCookie()[0].split(';')[0];
  const home = await (await fetch(`${baseUrl}/data/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}
