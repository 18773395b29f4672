/**
 * Numbered plain-SQL migrations (src/db/migrations/NNNN-name.sql), forward only, each in its own
 * transaction. An advisory lock serialises concurrent migrators: two processes starting at once
 * both succeed, and the second finds nothing left to do.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCKS, lockSession, unlockSession } from './advisory-lock.ts';
import type { Pool } from './database.ts';
import { premakeAllMonthlyPartitions } from './partitions.ts';
import { completePointDigestsIfEmpty } from './point-digests.ts';
import { transactionOn } from './transaction.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function listMigrations(): Promise<Migration[]> {
  const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}-.+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (file) => ({
    version: Number(file.slice(0, 4)),
    name: file.replace(/\.sql$/, ''),
    sql: await fs.readFile(path.join(MIGRATIONS_DIR, file), 'utf8'),
  })));
}

/**
 * Applies every pending migration; returns the names applied. Throws on failure. What a migration
 * reports (its NOTICEs: e.g. 0032's rows moved) goes to `report`. Then premakes the partitions of
 * the months ahead, of data_points and bundles (docs/partitions.md), so a server started after a
 * long stop has them.
 */
export async function migrate(pool: Pool, report: (message: string) => void = () => undefined): Promise<string[]> {
  const migrations = await listMigrations();
  const client = await pool.connect();
  const applied: string[] = [];
  const onNotice = (notice: { message?: string }) => {
    if (notice.message) report(notice.message);
  };
  client.on('notice', onNotice);
  try {
    await lockSession(client, LOCKS.migrations);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        await transactionOn(client, async (tx) => {
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await tx.query(migration.sql);
        });
        applied.push(migration.name);
      } catch (error) {
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    // Migration 0009's rewrite of every point (point-digests.ts) is instant on a new database.
    await completePointDigestsIfEmpty(client);
    await transactionOn(client, async (tx) => {
      for (const [table, premade] of await premakeAllMonthlyPartitions(tx)) {
        if (premade.created.length === 0) continue;
        // (only data_points has a DEFAULT partition to move rows from)
        report(`${table}: premade ${premade.created.join(', ')}${premade.movedFromDefault > 0 ? `; ${premade.movedFromDefault} points moved into them from ${table}_default` : ''}`);
      }
    });
  } finally {
    client.off('notice', onNotice);
    await unlockSession(client, LOCKS.migrations).catch(() => undefined);
    client.release();
  }
  return applied;
}
