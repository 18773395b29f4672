/**
 * `npm run db:snapshot`: migrates a fresh embedded database and writes src/db/schema.snapshot.json
 * and src/db/rows.ts from it (src/db/schema-snapshot.ts). Run it after adding a migration and
 * commit both files with it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool } from '../src/db/database.ts';
import { openEmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { readSchema, renderRowTypes, snapshotText } from '../src/db/schema-snapshot.ts';
import { createLogger } from '../src/log.ts';

const DB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'db');
const log = createLogger('warn');
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dcs-snapshot-'));
const embedded = await openEmbeddedPostgres(dataDir, log);
const pool = createPool(embedded.url, 2, log);
try {
  await migrate(pool);
  const schema = await readSchema(pool);
  await fs.writeFile(path.join(DB_DIR, 'schema.snapshot.json'), snapshotText(schema));
  await fs.writeFile(path.join(DB_DIR, 'rows.ts'), renderRowTypes(schema));
  console.log(`wrote src/db/schema.snapshot.json and src/db/rows.ts: ${Object.keys(schema).length} tables`);
} finally {
  await pool.end();
  await embedded.release();
  await fs.rm(dataDir, { recursive: true, force: true });
}
