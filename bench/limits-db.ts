/**
 * The database both limits use: an embedded PostgreSQL started by the same code as `dcs start`'s
 * (src/db/embedded-postgres.ts: same binaries, same settings), on a fresh data directory, migrated
 * so that `data_points` exists to copy its shape from.
 *
 *   limit_points   like data_points, built from it (LIKE ... INCLUDING ALL: columns, identity,
 *                  storage, compression, the unique key and every index; plus its reloptions,
 *                  which LIKE leaves out), so a schema change moves the yardstick with it
 *   limit_bundles  a bare `bundles`: id, receipt time, body (stored as-is, like bundles.body)
 *   limit_points_partitioned  limit_points partitioned as data_points is (migration 0032:
 *                  history, 12 months ahead, DEFAULT), for `npm run bench -- partitions`
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createPool } from '../src/db/database.ts';
import { openEmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { premakeMonthlyPartitions } from '../src/db/partitions.ts';
import { withTransaction } from '../src/db/transaction.ts';
import { createLogger } from '../src/log.ts';

export interface LimitsDatabase {
  url: string;
  pool: pg.Pool;
  /** pid of the postmaster, for the CPU time of every backend (processes.ts cpuSeconds). */
  postmaster: number;
  close(): Promise<void>;
}

export async function openLimitsDatabase(dataDir: string): Promise<LimitsDatabase> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const log = createLogger('warn');
  const embedded = await openEmbeddedPostgres(dataDir, log);
  const pool = createPool(embedded.url, 4, log);
  await migrate(pool);
  // data_points is partitioned (migration 0032): its reloptions are its partitions'.
  const { rows } = await pool.query<{ options: string[] | null }>(`SELECT reloptions AS options FROM pg_class WHERE oid = 'data_points_history'::regclass`);
  await pool.query(`
    CREATE TABLE limit_points (LIKE data_points INCLUDING ALL);
    ${rows[0].options?.length ? `ALTER TABLE limit_points SET (${rows[0].options.join(', ')});` : ''}
    CREATE TABLE limit_bundles (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT now(),
      body bytea NOT NULL
    );
    ALTER TABLE limit_bundles ALTER COLUMN body SET STORAGE EXTERNAL;
    -- The same table partitioned as data_points is (history, months ahead, DEFAULT).
    CREATE TABLE limit_points_partitioned (LIKE limit_points INCLUDING ALL);
    ${rows[0].options?.length ? `ALTER TABLE limit_points_partitioned SET (${rows[0].options.join(', ')});` : ''}
    SELECT dcs_partition_by_month('limit_points_partitioned', 'created');`);
  await withTransaction(pool, (tx) => premakeMonthlyPartitions(tx, 'limit_points_partitioned', 'created'));
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: embedded.url,
    pool,
    postmaster,
    async close() {
      await pool.end();
      await embedded.release();
    },
  };
}
