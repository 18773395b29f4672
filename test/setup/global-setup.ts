/**
 * Once per `npm test`: a PostgreSQL for the suite (TEST_DATABASE_URL, or the embedded one in a
 * temporary data directory) and a template database with the schema, which each test file clones.
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { isAlive, openEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { syncDataTypes } from '../../src/processing/data-types.ts';


declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    /** This run's template database; test databases are named `${template}_<random>`. */
    template: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let adminUrl: string | undefined;
const TEMPLATE = `dcs_test_${process.pid}`;


export async function setup(project: TestProject): Promise<void> {
  adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    embedded = await openEmbeddedPostgres(path.join(os.tmpdir(), 'webmunk-dcs-test'), createLogger('warn'));
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Several runs may share the server (parallel developers, the embedded one in the temp dir):
  // names carry the run's pid, and only databases of runs that are gone are dropped.
  const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname ~ '^dcs_test_[0-9]+'`);
  for (const { datname } of rows) {
    const pid = Number(/^dcs_test_(\d+)/.exec(datname)![1]);
    if (!isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  const pool = new pg.Pool({ connectionString: templateUrl.toString(), max: 2 });
  await migrate(pool);
  await syncDataTypes(pool);
  await pool.end();
  project.provide('adminUrl', adminUrl);
  project.provide('template', TEMPLATE);
}

export async function teardown(): Promise<void> {
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const { rows } = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${TEMPLATE}%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.end();
  }
  await embedded?.release();
}
