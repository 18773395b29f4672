/**
 * The error catalogue: every error a client or operator can see, with a stable code, its HTTP
 * status and its message. Routes throw `DcsError`s; one Fastify error handler renders them as JSON.
 * docs/errors.md lists the same codes (a test keeps the two identical).
 */
export const ERRORS = {
  DCS_ERR_UNAUTHORIZED: { status: 401, message: 'Missing or unknown bearer token.' },
  DCS_ERR_API_TOKEN: { status: 401, message: 'This API call needs a valid token: the form field "token" or an Authorization: Bearer header.' },
  DCS_ERR_LOGIN_FAILED: { status: 401, message: 'Unknown user name or wrong password.' },
  DCS_ERR_LOGIN_REQUIRED: { status: 401, message: 'Log in to the dashboard first.' },
  DCS_ERR_CSRF: { status: 403, message: 'The form has expired or did not come from this dashboard; reload the page and try again.' },
  DCS_ERR_FORBIDDEN: { status: 403, message: 'Only an administrator can do this.' },
  DCS_ERR_API_SCOPE: { status: 403, message: 'This API token may only read; updates need a read-write token.' },
  DCS_ERR_NOT_FOUND: { status: 404, message: 'Not found.' },
  DCS_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed.' },
  DCS_ERR_BODY_TOO_LARGE: { status: 413, message: 'Upload too large.' },
  DCS_ERR_BAD_REQUEST: { status: 400, message: 'Malformed request.' },
  DCS_ERR_API_QUERY: { status: 400, message: 'The API query is not valid.' },
  DCS_ERR_LOGIN_LOCKED: { status: 429, message: 'Too many failed logins; try again later.' },
  DCS_ERR_BUSY: { status: 503, message: 'The server is busy; try again in a few seconds.' },
  DCS_ERR_API_TIMEOUT: { status: 503, message: 'The query took too long; narrow its filters or use a smaller page.' },
  DCS_ERR_DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unavailable; please retry later.' },
  DCS_ERR_INTERNAL: { status: 500, message: 'Internal server error.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class DcsError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'DcsError';
    this.status = ERRORS[code].status;
  }
}

/** What a thrown value means for its reply: a code, a message, and why to log it (a bug, an outage), if at all. */
export function classifyError(error: unknown): { code: ErrorCode; message: string; log?: string } {
  if (error instanceof DcsError) return { code: error.code, message: error.message };
  const e = (error ?? {}) as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { code: 'DCS_ERR_BODY_TOO_LARGE', message: ERRORS.DCS_ERR_BODY_TOO_LARGE.message };
  if (isDatabaseUnavailable(error)) return { code: 'DCS_ERR_DATABASE_UNAVAILABLE', message: ERRORS.DCS_ERR_DATABASE_UNAVAILABLE.message, log: 'database unavailable' };
  if (e.statusCode && e.statusCode < 500) return { code: 'DCS_ERR_BAD_REQUEST', message: e.message ?? ERRORS.DCS_ERR_BAD_REQUEST.message };
  return { code: 'DCS_ERR_INTERNAL', message: ERRORS.DCS_ERR_INTERNAL.message, log: 'request failed' };
}

/** Any thrown value as an Error (keeps the original as `cause`). */
export function coerceError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value), { cause: value });
}

/**
 * Error codes of a connection that cannot be made or was lost: refused, reset, timed out, a host
 * or a Unix socket that is not there (ENOENT: the embedded PostgreSQL stopped and took its
 * socket with it), and PostgreSQL's own: shutting down (57P01-03), too many connections (53300),
 * connection exceptions (class 08).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT',
  '57P01', '57P02', '57P03', '53300',
]);

/** True when a `pg` error means the database cannot be reached (as opposed to a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (!e || typeof e !== 'object') return false;
  if (e instanceof DcsError && e.code === 'DCS_ERR_DATABASE_UNAVAILABLE') return true;
  if (UNAVAILABLE_CODES.has(e.code ?? '') || (e.code ?? '').startsWith('08')) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|the database system is (starting up|shutting down|in recovery mode)/i.test(e.message ?? '');
}
