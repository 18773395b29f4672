/**
 * The committed schema snapshot and row types match the migrated database: a migration without
 * `npm run db:snapshot` fails here, with the difference spelled out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchema, renderRowTypes, snapshotText, type SchemaSnapshot } from '../../src/db/schema-snapshot.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { ROOT } from '../helpers/dcs.ts';

const SNAPSHOT = path.join(ROOT, 'src/db/schema.snapshot.json');
const ROWS = path.join(ROOT, 'src/db/rows.ts');

/** One line per difference: "+ table.column: type" in the database only, "- …" in the snapshot only. */
function differences(committed: SchemaSnapshot, migrated: SchemaSnapshot): string[] {
  const lines = (schema: SchemaSnapshot) => new Set(Object.entries(schema).flatMap(([table, columns]) => columns.map((c) => `${table}.${c.name}: ${c.type}${c.nullable ? ' null' : ' not null'}`)));
  const [was, is] = [lines(committed), lines(migrated)];
  return [...[...is].filter((l) => !was.has(l)).map((l) => `+ ${l}`), ...[...was].filter((l) => !is.has(l)).map((l) => `- ${l}`)];
}

describe('schema snapshot', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(); // the template, migrated from scratch by the test setup
  });
  afterAll(async () => db?.drop());

  it('src/db/schema.snapshot.json is the migrated schema (after a migration: npm run db:snapshot)', async () => {
    const migrated = await readSchema(db.pool);
    const committed = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as SchemaSnapshot;
    expect(differences(committed, migrated), 'the migrations and src/db/schema.snapshot.json differ: run `npm run db:snapshot` and commit the result').toEqual([]);
    // column order too, and the file exactly as the script writes it
    expect(fs.readFileSync(SNAPSHOT, 'utf8')).toBe(snapshotText(migrated));
  });

  it('src/db/rows.ts is generated from the snapshot', () => {
    const committed = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as SchemaSnapshot;
    expect(fs.readFileSync(ROWS, 'utf8'), 'src/db/rows.ts is out of date or edited by hand: run `npm run db:snapshot`').toBe(renderRowTypes(committed));
  });

  it('spells out a difference', () => {
    const before: SchemaSnapshot = { t: [{ name: 'a', type: 'text', nullable: false }] };
    const after: SchemaSnapshot = { t: [{ name: 'a', type: 'text', nullable: true }, { name: 'b', type: 'bigint', nullable: false }] };
    expect(differences(before, after)).toEqual(['+ t.a: text null', '+ t.b: bigint not null', '- t.a: text not null']);
  });
});
