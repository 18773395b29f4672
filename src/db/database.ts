/**
 * Opens the connection pool a process uses: the embedded PostgreSQL when DATABASE_URL is unset,
 * otherwise the given server; beside it, when DATABASE_READ_URL is set, a pool on that read
 * replica. Pools are passed explicitly to everything that needs them. Glossary of the tables:
 * docs/glossary.md.
 */
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { openEmbeddedPostgres } from './embedded-postgres.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface Database {
  readonly pool: pg.Pool;
  /**
   * For reads that may lag the primary (exports, the dashboard's pages of statistics): a pool on
   * DATABASE_READ_URL when set, else `pool` itself.
   */
  readonly readPool: pg.Pool;
  readonly url: string;
  /** For sessions of their own (LISTEN, the migrations' lock): DATABASE_DIRECT_URL when set, else `url`. */
  readonly directUrl: string;
  close(): Promise<void>;
}

// int8 (bigint, counts) as JS numbers: our counts stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

export function createPool(url: string, size: number, log: Logger, applicationName = 'webmunk-dcs'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    // An application_name in the URL wins (node-postgres lets the URL's parameters override).
    application_name: applicationName,
    // Fail fast when the database is down, so uploads get a 503 instead of hanging.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));
  // Nor one the pool is already closing (idle timeout, shutdown): pool.end() and idle removal do
  // not wait for the connection to close, and a server-side termination arriving meanwhile is
  // emitted on the client itself, which the pool no longer listens to (seen in CI).
  pool.on('connect', (client) => client.on('error', (error) => log.debug({ err: error }, 'database connection closed by the server')));
  return pool;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    const pool = createPool(config.databaseUrl, config.dbPoolSize, log);
    const readPool = config.databaseReadUrl ? createPool(config.databaseReadUrl, config.dbPoolSize, log, 'webmunk-dcs-read') : pool;
    return {
      pool,
      readPool,
      url: config.databaseUrl,
      directUrl: config.databaseDirectUrl ?? config.databaseUrl,
      async close() {
        await Promise.all([pool.end(), readPool === pool ? undefined : readPool.end()]);
      },
    };
  }
  const embedded = await openEmbeddedPostgres(config.dataDir, log);
  const pool = createPool(embedded.url, config.dbPoolSize, log);
  return {
    pool,
    readPool: pool,
    url: embedded.url,
    directUrl: embedded.url,
    async close() {
      await pool.end();
      await embedded.release();
    },
  };
}

// Moved to transaction.ts; re-exported so that code written against this module keeps compiling.
export { withTransaction } from './transaction.ts';
