/** `dcs tokens create NAME [--expires DAYS] [--scope read|read-write] | list | revoke NAME`: service tokens of the PDK query API. */
import { parseArgs } from 'node:util';
import type { Pool } from '../db/database.ts';
import { TOKEN_SCOPES, type TokenScope } from '../api/api-tokens.ts';
import { createServiceToken, listTokens, revokeServiceToken, type ApiToken } from '../api/tokens.repository.ts';

export const TOKENS_USAGE = `Usage:
  dcs tokens create NAME [--expires DAYS] [--scope read|read-write]
                          a new API token for another server (e.g. the enrollment server), printed
                          once, alone on the last line; read-write (the default) may also change
                          sources' groups; without --expires it never expires
  dcs tokens list         every token: name, scope, expiry, last use (never the token)
  dcs tokens revoke NAME  the token stops working at once`;

/** Names: what an administrator would call a server or a person, printable and bounded. */
const NAME_PATTERN = /^[\w.@+:-]{1,100}$/;

function when(date: Date | null, never: string): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : never;
}

function state(token: ApiToken): string {
  if (token.revokedAt) return `revoked ${when(token.revokedAt, '')}`;
  if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) return `expired ${when(token.expiresAt, '')}`;
  return `expires ${when(token.expiresAt, 'never')}`;
}

export async function tokensCommand(pool: Pool, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { expires: { type: 'string' }, scope: { type: 'string', default: 'read-write' } }, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${TOKENS_USAGE}`);
    return 1;
  }
  const [action, name, ...extra] = parsed.positionals;
  const { expires, scope } = parsed.values;
  const needsName = action === 'create' || action === 'revoke';
  if (!['create', 'list', 'revoke'].includes(action ?? '') || (needsName && !name) || (!needsName && name) || extra.length > 0
    || (action !== 'create' && (expires !== undefined || args.some((a) => a.startsWith('--scope'))))) {
    console.error(TOKENS_USAGE);
    return 1;
  }
  if (action === 'list') {
    const tokens = await listTokens(pool);
    if (tokens.length === 0) console.log('no API tokens yet: dcs tokens create NAME');
    for (const token of tokens) {
      const used = token.lastUsedAt ? `last used ${when(token.lastUsedAt, '')}` : 'never used';
      console.log(`${token.name.padEnd(24)} ${token.kind.padEnd(7)} ${token.scope.padEnd(10)} ${token.tokenPrefix}…  ${state(token).padEnd(28)} ${used}  by ${token.createdBy}`);
    }
    return 0;
  }
  if (action === 'revoke') {
    if (!(await revokeServiceToken(pool, name))) {
      console.error(`No live token named "${name}" (dcs tokens list).`);
      return 1;
    }
    console.log(`revoked ${name}: calls with it are refused from now on`);
    return 0;
  }
  if (!NAME_PATTERN.test(name)) {
    console.error('A token name has 1 to 100 letters, digits or . @ + : - _');
    return 1;
  }
  if (!TOKEN_SCOPES.includes(scope as TokenScope)) {
    console.error(`--scope is read or read-write (got "${scope}").`);
    return 1;
  }
  const days = expires === undefined ? null : Number(expires);
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) {
    console.error(`--expires takes a number of days from 1 to 3650 (got "${expires}").`);
    return 1;
  }
  const created = await createServiceToken(pool, { name, scope: scope as TokenScope, expiresDays: days, createdBy: 'dcs tokens' });
  if ('exists' in created) {
    console.error(`A live token named "${name}" exists (${state(created.exists)}); revoke it first: dcs tokens revoke ${name}`);
    return 1;
  }
  console.log(`created API token "${name}" (${created.row.scope}, ${state(created.row)}).`);
  console.log('It is shown this once; only its hash is kept. Give it to the caller, e.g. PDK_API_TOKEN in the enrollment server\'s settings:');
  console.log(created.token);
  return 0;
}
