/**
 * Once per `npm test`: a PostgreSQL for the suite (TEST_DATABASE_URL, or the embedded one in a
 * temporary data directory) and a template database with the schema, which each test file clones.
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { syncDataTypes } from '../../src/processing/data-types.ts';

export const TEMPLATE = 'dcs_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;

export async function setup(project: TestProject): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    embedded = await openEmbeddedPostgres(path.join(os.tmpdir(), 'webmunk-dcs-test'), createLogger('warn'));
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Databases left by an interrupted run.
  const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'dcs_test_%'`);
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  const pool = new pg.Pool({ connectionString: templateUrl.toString(), max: 2 });
  await migrate(pool);
  await syncDataTypes(pool);
  await pool.end();
  project.provide('adminUrl', adminUrl);
}

export async function teardown(): Promise<void> {
  await embedded?.release();
}
