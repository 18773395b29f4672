/**
 * A fresh database per test file, cloned from the migrated template (about 0.1 s), or `empty`: no
 * schema at all, as a server's first start finds it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { listMigrations } from '../../src/db/migrate.ts';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * `before`: a database migrated only up to that migration number (exclusive), as a server of an
 * earlier version left it (tests of a migration).
 */
export async function createTestDatabase(options: { empty?: boolean; before?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const template = inject('template');
  const name = `${template}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${options.empty || options.before !== undefined ? 'template0' : template}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  if (options.before !== undefined) {
    // What migrate() did then: each migration and its row in schema_migrations.
    await pool.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const migration of await listMigrations()) {
      if (migration.version >= options.before) break;
      await pool.query(`BEGIN; ${migration.sql}; INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, '${migration.name}'); COMMIT`);
    }
  }
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      // pool.end() resolves before its connections have closed. Terminating one that is still
      // closing (DROP ... WITH (FORCE)) makes its client emit an error nobody listens to any more,
      // so wait (briefly) for every connection to the database to be gone first.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
