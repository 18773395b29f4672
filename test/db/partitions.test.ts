/**
 * Premaking monthly partitions (src/db/partitions.ts): driven by the clock and the catalog, never
 * by the dates points carry; the rows of a new month are moved out of DEFAULT first (PostgreSQL
 * refuses the partition otherwise); running it again makes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPartitions, monthStart, premakeMonthlyPartitions } from '../../src/db/partitions.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
const later = new Date(Date.UTC(monthStart(new Date()).getUTCFullYear() + 2, 5, 15)); // mid-June, two years on

async function insertAt(created: string, label: string): Promise<void> {
  await db.pool.query(
    `INSERT INTO data_points (source, generator_id, generator, created, created_from, recorded, bundle_id, content_digest, properties)
     VALUES ('premake', 'g', 'G', $1, 'timestamp', now(), 1, md5($2)::uuid, '{}')`,
    [created, label],
  );
}

async function whereIs(label: string): Promise<string> {
  const { rows } = await db.pool.query(`SELECT tableoid::regclass::text AS part FROM data_points WHERE content_digest = md5($1)::uuid`, [label]);
  return rows[0].part;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('premakeMonthlyPartitions', () => {
  it('leaves points past the months ahead in DEFAULT, however far, and makes no partition for them', async () => {
    const before = (await listPartitions(db.pool, 'data_points')).length;
    await insertAt(new Date(Date.UTC(later.getUTCFullYear(), 2, 10)).toISOString(), 'march');
    await insertAt('52217-01-01T00:00:00Z', 'far');
    const made = await withTransaction(db.pool, (tx) => premakeMonthlyPartitions(tx, 'data_points', 'created'));
    expect(made).toEqual({ created: [], movedFromDefault: 0 });
    expect((await listPartitions(db.pool, 'data_points')).length).toBe(before);
    expect(await whereIs('march')).toBe('data_points_default');
    expect(await whereIs('far')).toBe('data_points_default');
  });

  it('makes the months up to 12 after the clock\'s, from where the partitions end, moving their rows out of DEFAULT', async () => {
    const last = (await listPartitions(db.pool, 'data_points')).filter((p) => p.upper).at(-1)!.upper!;
    const made = await withTransaction(db.pool, (tx) => premakeMonthlyPartitions(tx, 'data_points', 'created', { now: later }));
    const expected: string[] = [];
    for (let month = monthStart(last); month < monthStart(later, 13); month = monthStart(month, 1)) {
      expected.push(`data_points_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`);
    }
    expect(made).toEqual({ created: expected, movedFromDefault: 1 });
    expect(await whereIs('march')).toBe(`data_points_p${later.getUTCFullYear()}_03`);
    expect(await whereIs('far')).toBe('data_points_default');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'premake'`);
    expect(rows[0].n).toBe(2);
  });

  it('makes nothing when run again, and the new months take new points and keep the unique key', async () => {
    expect(await withTransaction(db.pool, (tx) => premakeMonthlyPartitions(tx, 'data_points', 'created', { now: later }))).toEqual({ created: [], movedFromDefault: 0 });
    await expect(insertAt(new Date(Date.UTC(later.getUTCFullYear(), 2, 10)).toISOString(), 'march')).rejects.toThrow(/duplicate key/);
    await insertAt(new Date(Date.UTC(later.getUTCFullYear(), 4, 1)).toISOString(), 'may');
    expect(await whereIs('may')).toBe(`data_points_p${later.getUTCFullYear()}_05`);
  });
});
