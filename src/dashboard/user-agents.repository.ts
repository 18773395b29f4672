/**
 * The user-agents page's reads: user_agent_sources (kept by the source-statistics job) grouped by
 * user agent. Distinct user agents are few (hundreds: one per browser version and extension
 * build), so grouping the whole table per request is cheap.
 */
import type { Pool } from '../db/database.ts';

export interface UserAgentRow {
  userAgent: string;
  sources: number;
  points: number;
  firstSeen: Date;
  lastSeen: Date;
}

export type UserAgentSort = 'agent' | 'sources' | 'points' | 'first' | 'last';
export type SortDirection = 'asc' | 'desc';

/** The only ORDER BY expressions a request can choose: never interpolate what the query says. */
const SORT_SQL: Record<UserAgentSort, string> = {
  agent: 'user_agent',
  sources: 'sources',
  points: 'points',
  first: 'first_seen',
  last: 'last_seen',
};

export function isUserAgentSort(value: string): value is UserAgentSort {
  return Object.hasOwn(SORT_SQL, value);
}

/** `text` as a LIKE pattern matching itself anywhere: % and _ (and the escape \) taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface UserAgentQuery {
  /** substring of the user agent, case-insensitive; '' for all */
  search: string;
  sort: UserAgentSort;
  dir: SortDirection;
  /** omitted: every row (the automated filter classifies all of them in Node) */
  limit?: number;
  offset?: number;
}

/** Distinct user agents with their number of sources, points and first/last point time. */
export async function listUserAgents(db: Pool, query: UserAgentQuery): Promise<UserAgentRow[]> {
  const order = `${SORT_SQL[query.sort]} ${query.dir === 'asc' ? 'ASC' : 'DESC'}, user_agent ASC`;
  const { rows } = await db.query(
    `SELECT user_agent, count(*)::int AS sources, sum(points)::float8 AS points, min(first_seen) AS first_seen, max(last_seen) AS last_seen
     FROM user_agent_sources
     WHERE $1::text IS NULL OR user_agent ILIKE $1 ESCAPE '\\'
     GROUP BY user_agent
     ORDER BY ${order}
     LIMIT $2 OFFSET $3`,
    [query.search ? containsPattern(query.search) : null, query.limit ?? null, query.offset ?? 0],
  );
  return rows.map((r) => ({ userAgent: r.user_agent, sources: r.sources, points: r.points, firstSeen: r.first_seen, lastSeen: r.last_seen }));
}

/** How many distinct user agents match `search` ('' for all). */
export async function countUserAgents(db: Pool, search: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(DISTINCT user_agent)::int AS n FROM user_agent_sources WHERE $1::text IS NULL OR user_agent ILIKE $1 ESCAPE '\\'`,
    [search ? containsPattern(search) : null],
  );
  return rows[0].n;
}

/** Every distinct user agent (for counting the automated ones at the top of the page). */
export async function listDistinctUserAgents(db: Pool): Promise<string[]> {
  const { rows } = await db.query('SELECT DISTINCT user_agent FROM user_agent_sources');
  return rows.map((r) => r.user_agent);
}

export interface UserAgentSource {
  source: string;
  name: string | null;
  points: number;
  lastSeen: Date;
}

/** The sources of each of `userAgents`, most points first, at most `perAgent` each. */
export async function listSourcesOfUserAgents(db: Pool, userAgents: readonly string[], perAgent = 50): Promise<Map<string, UserAgentSource[]>> {
  const out = new Map<string, UserAgentSource[]>();
  if (userAgents.length === 0) return out;
  const { rows } = await db.query(
    `SELECT u.user_agent, u.source, d.name, u.points::float8 AS points, u.last_seen
     FROM (SELECT *, row_number() OVER (PARTITION BY user_agent ORDER BY points DESC, source) AS rank
           FROM user_agent_sources WHERE user_agent = ANY($1::text[])) u
     LEFT JOIN data_sources d ON d.source = u.source
     WHERE u.rank <= $2
     ORDER BY u.user_agent, u.rank`,
    [userAgents, perAgent],
  );
  for (const r of rows) {
    const list = out.get(r.user_agent) ?? [];
    list.push({ source: r.source, name: r.name, points: r.points, lastSeen: r.last_seen });
    out.set(r.user_agent, list);
  }
  return out;
}
