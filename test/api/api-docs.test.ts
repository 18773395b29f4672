/**
 * docs/api.md is true: its field tables and orderings are the allow-lists of the code, and its
 * examples run. Every block marked `<!-- example: NAME -->` is taken from the markdown as written:
 * the `dcs tokens create` commands issue the tokens (through the real CLI), the curl blocks run in
 * bash against a real server, the Python script runs with python3 and `requests`; each one's
 * output is checked.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OFFSET, MAX_PAGE_SIZE } from '../../src/api/api-request.ts';
import { TOKEN_LENGTH } from '../../src/api/api-tokens.ts';
import type { FieldSpec } from '../../src/api/lookups.ts';
import { POINT_FIELDS, POINT_ORDER } from '../../src/api/points.repository.ts';
import { SOURCE_FIELDS, SOURCE_ORDER } from '../../src/api/sources.repository.ts';
import { ROOT, runDcs } from '../helpers/dcs.ts';
import { extensionPoint, uploadPoints } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';
import { createStaff } from '../helpers/staff.ts';

const run = promisify(execFile);
const MARKDOWN = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');

/** The marked blocks of docs/api.md: name → language and code. */
const EXAMPLES = new Map([...MARKDOWN.matchAll(/<!-- example: ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```/g)].map((m) => [m[1], { language: m[2], code: m[3] }]));

function example(name: string): string {
  const found = EXAMPLES.get(name);
  if (!found) throw new Error(`docs/api.md has no example "${name}"`);
  return found.code;
}

/** Whether python3 can import requests (CI installs Debian's python3-requests; nothing is installed here). */
async function pythonHasRequests(): Promise<boolean> {
  try {
    await run('python3', ['-c', 'import requests']);
    return true;
  } catch {
    return false;
  }
}
const HAS_REQUESTS = await pythonHasRequests();
if (!HAS_REQUESTS) console.warn('docs/api.md\'s Python example is skipped: python3 cannot import requests (install Debian\'s python3-requests).');

const server = useTestServer();
const PARTICIPANT = '48213077';
const OTHER = '11112222';
/** More than two pages of the Python example's 1000. */
const PARTICIPANT_POINTS = 2500;
const T0 = Date.UTC(2024, 4, 10, 8, 0, 0) / 1000;
let workDir: string;
let readToken: string;
let writeToken: string;
const staff = { username: 'alice', password: 'a long enough password' };



/** `npx dcs tokens create …` of an example, run as the real CLI; the token is its last line. */
async function issueToken(name: string): Promise<string> {
  const command = example(name).trim();
  expect(command).toMatch(/^npx dcs tokens create /);
  const result = await runDcs(command.replace(/^npx dcs /, '').split(/\s+/), { databaseUrl: server.db.url });
  expect(result.code, result.stderr).toBe(0);
  const token = result.stdout.trim().split('\n').at(-1)!;
  expect(token).toMatch(new RegExp(`^[A-Za-z0-9]{${TOKEN_LENGTH}}$`));
  return token;
}

/** Runs a shell example in bash with the variables the page tells readers to set. */
async function shell(name: string, token: string): Promise<string> {
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', example(name)], {
    cwd: workDir,
    env: { PATH: process.env.PATH, HOME: workDir, DCS_URL: server.baseUrl, DCS_TOKEN: token, DCS_USER: staff.username, DCS_PASSWORD: staff.password },
  });
  return stdout;
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-api-docs-'));
  // One status report in every ten points, a minute apart; the other participant has one report before May.
  const points = Array.from({ length: PARTICIPANT_POINTS }, (_, i) => (i % 10 === 0
    ? extensionPoint(PARTICIPANT, 'pdk-system-status', T0 + i * 60, { pending_points: i })
    : extensionPoint(PARTICIPANT, 'webmunk-page-visit', T0 + i * 60, { url: `https://example.org/${i}` })));
  for (let i = 0; i < points.length; i += 500) await uploadPoints(server.baseUrl, points.slice(i, i + 500));
  await uploadPoints(server.baseUrl, [extensionPoint(OTHER, 'pdk-system-status', T0 - 30 * 86400), extensionPoint(OTHER, 'pdk-system-status', T0 + 5), extensionPoint(OTHER, 'pdk-system-status', T0 + 6)]);
  await server.process();
  await createStaff(server.db.pool, staff.username, staff.password, false);
  writeToken = await issueToken('issue-enrollment-token');
  readToken = await issueToken('issue-analyst-token');
});

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('docs/api.md against the code', () => {
  /** The rows of the field table under a heading: field → lookups. */
  function table(heading: string): Record<string, string[]> {
    const section = MARKDOWN.split(heading)[1].split(/\n#{2,4} /)[0];
    const rows = [...section.matchAll(/^\| `([\w]+)` \| ([a-z, ]+) \|/gm)];
    return Object.fromEntries(rows.map((r) => [r[1], r[2].split(', ')]));
  }

  function orderings(heading: string): string[] {
    const section = MARKDOWN.split(heading)[1].split(/\n#{2,4} /)[0];
    const line = /Orderings[^:]*:([^.]*?)each with/.exec(section.replace(/\n/g, ' '))![1];
    return [...line.matchAll(/`([\w-]+)`/g)].map((m) => m[1]);
  }

  const lookupsOf = (fields: Record<string, FieldSpec>) => Object.fromEntries(Object.entries(fields).map(([name, spec]) => [name, [...spec.lookups]]));

  it('lists every field and lookup of the allow-lists, and nothing else', () => {
    expect(table('#### Data points')).toEqual(lookupsOf(POINT_FIELDS));
    expect(table('#### Data sources')).toEqual(lookupsOf(SOURCE_FIELDS));
  });

  it('lists every ordering', () => {
    expect(orderings('#### Data points')).toEqual(Object.keys(POINT_ORDER));
    expect(orderings('#### Data sources')).toEqual(Object.keys(SOURCE_ORDER));
  });

  it('states the paging limits of the code', () => {
    expect(MARKDOWN).toContain(`\`page_size\`: 1 to ${MAX_PAGE_SIZE} rows`);
    expect(MARKDOWN).toContain(`at most ${MAX_OFFSET.toLocaleString('en')}`);
  });

  it('has every example the tests below run', () => {
    expect([...EXAMPLES.keys()].sort()).toEqual([
      'count-since', 'issue-analyst-token', 'issue-enrollment-token', 'list-group', 'newest-point', 'openapi', 'python-points', 'request-token', 'set-group',
    ]);
  });
});

describe('the examples of docs/api.md run', () => {
  it('newest-point: the participant\'s newest point and their count', async () => {
    const reply = JSON.parse(await shell('newest-point', readToken));
    expect(Object.keys(reply)).toEqual(['latest', 'count', 'page_index', 'page_size', 'matches']);
    expect(reply).toMatchObject({ count: PARTICIPANT_POINTS, page_index: 0, page_size: 1 });
    expect(reply.matches).toHaveLength(1);
    expect(reply.matches[0]['passive-data-metadata']).toMatchObject({ source: PARTICIPANT, pdk_server_created: T0 + (PARTICIPANT_POINTS - 1) * 60 });
  });

  it('count-since: a JSON body with source__in and a date', async () => {
    const reply = JSON.parse(await shell('count-since', readToken));
    // the participant's reports (one in ten) and the other's two since May 1st
    expect(reply.count).toBe(PARTICIPANT_POINTS / 10 + 2);
    expect(reply.matches).toHaveLength(1);
  });

  it('set-group and list-group: a read-write token sets the group, which the list then shows', async () => {
    expect(JSON.parse(await shell('set-group', writeToken))).toEqual({ updated: 1 });
    const listed = JSON.parse(await shell('list-group', readToken));
    expect(listed.count).toBe(1);
    expect(listed.matches.map((m: { identifier: string; group: string }) => [m.identifier, m.group])).toEqual([[PARTICIPANT, 'Arm A']]);
    // the analyst's read token may not do the same
    expect(JSON.parse(await shell('set-group', readToken)).code).toBe('DCS_ERR_API_SCOPE');
  });

  it('request-token: a staff member\'s token that then works', async () => {
    const reply = JSON.parse(await shell('request-token', ''));
    expect(Object.keys(reply)).toEqual(['token', 'expires']);
    expect(JSON.parse(await shell('newest-point', reply.token)).count).toBe(PARTICIPANT_POINTS);
  });

  it('openapi: saves the document', async () => {
    fs.rmSync(path.join(workDir, 'openapi.json'), { force: true });
    expect(await shell('openapi', '')).toBe('');
    const saved = JSON.parse(fs.readFileSync(path.join(workDir, 'openapi.json'), 'utf8'));
    expect(saved.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(saved.paths)).toContain('/data/api/data-points.json');
  });

  it.skipIf(!HAS_REQUESTS)(`python-points: pages through all ${PARTICIPANT_POINTS} points of a participant, newest first${HAS_REQUESTS ? '' : ' (skipped: python3 cannot import requests)'}`, async () => {
    const script = path.join(workDir, 'points.py');
    fs.writeFileSync(script, example('python-points'));
    const { stdout } = await run('python3', [script, PARTICIPANT], {
      cwd: workDir,
      env: { PATH: process.env.PATH, HOME: workDir, DCS_URL: server.baseUrl, DCS_TOKEN: readToken },
      maxBuffer: 64 * 1024 * 1024,
    });
    const points = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(points).toHaveLength(PARTICIPANT_POINTS);
    const created = points.map((p) => p['passive-data-metadata'].pdk_server_created as number);
    expect(created).toEqual(Array.from({ length: PARTICIPANT_POINTS }, (_, i) => T0 + (PARTICIPANT_POINTS - 1 - i) * 60));
    expect(new Set(points.map((p) => p['passive-data-metadata'].source))).toEqual(new Set([PARTICIPANT]));
  });
});
