/**
 * /data/api-tokens: the PDK query API's tokens (docs/api.md). Administrators issue a service
 * token for another server (the enrollment server's PDK_API_TOKEN), see it once on the page the
 * form posts to (never in a URL, never again), and revoke tokens; staff see the list. A token's
 * value is never stored, so no page can show it twice.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TOKEN_SCOPES, type TokenScope } from '../../api/api-tokens.ts';
import { createServiceToken, listTokens, revokeTokenById, type ApiToken } from '../../api/tokens.repository.ts';
import { DcsError } from '../../errors.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { sendPage } from './page.ts';

const NAME_PATTERN = /^[\w.@+:-]{1,100}$/;

interface Issued {
  name: string;
  token: string;
}

function field(form: FormFields, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value[0] : value ?? '').trim();
}

function status(token: ApiToken, timeZone: string): SafeHtml {
  if (token.revokedAt) return html`<span class="muted">revoked ${formatDateTime(token.revokedAt, timeZone)}</span>`;
  if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) return html`<span class="level level-warning">expired ${formatDateTime(token.expiresAt, timeZone)}</span>`;
  return html`<span class="ok">live</span>, ${token.expiresAt ? html`expires ${formatDateTime(token.expiresAt, timeZone)}` : 'never expires'}`;
}

async function renderTokens(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, outcome: { issued?: Issued; error?: string } = {}) {
  const { pool, config } = deps;
  const tokens = await listTokens(pool);
  const isAdmin = request.session!.user.isAdmin;
  const csrf = request.session!.csrfToken;
  const tz = config.timeZone;
  const issued = outcome.issued
    ? html`<section class="panel notice" role="status"><h2>Token "${outcome.issued.name}" created</h2>
        <p>Copy it now: it is shown this once and only its hash is kept. In the enrollment server's settings it is <code>PDK_API_TOKEN</code>.</p>
        <pre class="mono token" aria-label="The new token">${outcome.issued.token}</pre></section>`
    : '';
  const form = isAdmin
    ? html`<section class="panel"><h2>New token for another server</h2>
      <form method="post" action="/data/api-tokens" class="toolbar">
        <input type="hidden" name="_csrf" value="${csrf}">
        <label>Name <input type="text" name="name" required maxlength="100" placeholder="enrollment-server"></label>
        <label>Scope <select name="scope"><option value="read-write">read-write (also sets groups)</option><option value="read">read only</option></select></label>
        <label>Expires after <input type="text" name="expires" inputmode="numeric" size="5" placeholder="never"> days</label>
        <button type="submit">Create token</button>
      </form>
      <p class="small muted">Or from a terminal: <code>dcs tokens create NAME [--expires DAYS] [--scope read|read-write]</code>. Staff get their own short-lived tokens from <code>/data/api/request-token.json</code> with their password.</p></section>`
    : html`<p class="muted">Only an administrator can create or revoke tokens.</p>`;
  const rows = tokens.map((t) => html`<tr${t.revokedAt ? html` class="removed"` : ''}>
      <td>${t.name}</td><td>${t.kind === 'service' ? 'server' : 'staff (password)'}</td><td>${t.scope}</td>
      <td class="mono">${t.tokenPrefix}…</td><td>${status(t, tz)}</td>
      <td class="nowrap">${t.lastUsedAt ? formatDateTime(t.lastUsedAt, tz) : html`<span class="muted">never</span>`}</td>
      <td>${t.createdBy}, ${formatDateTime(t.createdAt, tz)}</td>
      <td>${isAdmin && !t.revokedAt ? html`<form method="post" action="/data/api-tokens/revoke" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="id" value="${String(t.id)}"><button type="submit" class="danger">Revoke</button></form>` : ''}</td></tr>`);
  const body = html`<h1>API tokens</h1>${outcomeNotice(request)}
    ${outcome.error ? html`<p class="notice error" role="alert">${outcome.error}</p>` : ''}${issued}
    <p>Tokens let other servers and analysts call the PDK query API (<code>/data/api/…</code>, <a href="/data/api/openapi.json">OpenAPI</a>): the enrollment server polls participants' points and mirrors their groups with one.</p>
    ${form}
    <h2>Tokens</h2>
    ${tokens.length === 0 ? html`<p class="muted">No tokens yet.</p>` : html`<div class="table-scroll"><table class="data">
      <thead><tr><th>Name</th><th>For</th><th>Scope</th><th>Token</th><th>Status</th><th>Last used</th><th>Created</th><th></th></tr></thead>
      <tbody>${rows}</tbody></table></div>`}`;
  return sendPage(request, reply, { title: 'API tokens', current: 'api-tokens', body, status: outcome.error ? 400 : 200 });
}

export function registerApiTokensPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, log } = deps;
  scope.get('/api-tokens', (request, reply) => renderTokens(deps, request, reply));

  // Answered with the page itself, not a redirect: the new token must not travel in a URL.
  scope.post('/api-tokens', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const form = (request.body ?? {}) as FormFields;
    const name = field(form, 'name');
    const scopeField = field(form, 'scope') || 'read-write';
    const expires = field(form, 'expires');
    if (!NAME_PATTERN.test(name)) return renderTokens(deps, request, reply, { error: 'A token name has 1 to 100 letters, digits or . @ + : - _' });
    if (!TOKEN_SCOPES.includes(scopeField as TokenScope)) return renderTokens(deps, request, reply, { error: 'The scope is read or read-write.' });
    const days = expires === '' || expires === 'never' ? null : Number(expires);
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) return renderTokens(deps, request, reply, { error: 'Expires after: a number of days from 1 to 3650, or empty for never.' });
    const created = await createServiceToken(pool, { name, scope: scopeField as TokenScope, expiresDays: days, createdBy: user.username });
    if ('exists' in created) return renderTokens(deps, request, reply, { error: `A live token named ${name} exists; revoke it first.` });
    log.info({ user: user.username, token: name, scope: scopeField }, 'API token created from the dashboard');
    return renderTokens(deps, request, reply, { issued: { name, token: created.token } });
  });

  scope.post('/api-tokens/revoke', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const id = Number(field((request.body ?? {}) as FormFields, 'id'));
    const revoked = Number.isSafeInteger(id) && id > 0 ? await revokeTokenById(pool, id) : undefined;
    if (!revoked) return reply.redirect(withOutcome(request, '/data/api-tokens', { failed: 'unknown-token' }), 303);
    log.info({ user: user.username, token: revoked.name }, 'API token revoked from the dashboard');
    return reply.redirect(withOutcome(request, '/data/api-tokens', { done: 'token-revoked', subject: revoked.name }), 303);
  });
}
