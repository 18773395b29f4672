/**
 * The original server's PostgreSQL, as `dcs import-pdk --database` reads it: one connection, one
 * read-only REPEATABLE READ transaction, so every table is read at the same moment (the counts the
 * report compares are those of the points read, even while the old server still processes
 * bundles), with times in UTC. Tables are read in pages by key (`pagesById`), never whole.
 */
import pg from 'pg';

export interface OriginalDatabase {
  /** `database:<host>/<name>`: names this import (its progress, its bundles' receipts). */
  readonly origin: string;
  readonly client: pg.Client;
  /** The table exists (a plain PDK server has no support_amazonasinitem; older ones lack tables). */
  has(table: string): boolean;
  close(): Promise<void>;
}

/** Without these it is not a PDK server's database. */
const REQUIRED_TABLES = ['passive_data_kit_datapoint', 'passive_data_kit_databundle'];

export function originOf(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname || new URLSearchParams(parsed.search).get('host') || 'localhost';
  return `database:${host}/${decodeURIComponent(parsed.pathname.replace(/^\//, ''))}`;
}

/** Connects and opens the snapshot. Throws an Error that says what is wrong (for the terminal). */
export async function openOriginalDatabase(url: string): Promise<OriginalDatabase> {
  let origin: string;
  try {
    origin = originOf(url);
  } catch (error) {
    // Not the URL itself in the message: it holds a password.
    throw new Error('--database must be a PostgreSQL URL, postgres://user:password@host/name', { cause: error });
  }
  const client = new pg.Client({ connectionString: url, application_name: 'webmunk-dcs import-pdk', connectionTimeoutMillis: 10_000 });
  // A connection lost mid-import is reported by the query that was running; this keeps it from
  // being an unhandled 'error' event as well.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to the original database (${origin}): ${(error as Error).message}`, { cause: error });
  }
  try {
    await client.query(`SET TIME ZONE 'UTC'; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`);
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
    );
    const tables = new Set(rows.map((r) => r.name));
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) throw new Error(`${origin} is not a Passive Data Kit database: no table ${missing.join(', ')}`);
    return {
      origin,
      client,
      has: (table) => tables.has(table),
      async close() {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** A timestamp column as text PostgreSQL reads back exactly (microseconds kept, UTC: the session's zone). */
export const timeText = (column: string) => `to_char(${column}, 'YYYY-MM-DD HH24:MI:SS.US') || '+00'`;

/**
 * The rows of `table` (matching `where`, which may use $1 only through the page key) in id order,
 * `pageSize` at a time, by keyset: each page starts after the last id of the one before.
 */
export async function* pagesById<T extends { id: number | string }>(
  client: pg.Client, query: { columns: string; table: string; where?: string; pageSize: number },
): AsyncGenerator<T[]> {
  let after = -1;
  for (;;) {
    const { rows } = await client.query<T>(
      `SELECT id, ${query.columns} FROM ${query.table} WHERE id > $1 ${query.where ? `AND (${query.where})` : ''} ORDER BY id LIMIT $2`,
      [after, query.pageSize],
    );
    if (rows.length === 0) return;
    yield rows;
    after = Number(rows.at(-1)!.id); // int8 comes as text unless db/database.ts set its parser
    if (rows.length < query.pageSize) return;
  }
}
