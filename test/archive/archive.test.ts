/**
 * Archiving cold months of data_points (issue 22 M2): the job `partitions` run with a clock two
 * years ahead archives every month older than ARCHIVE_AFTER_MONTHS to Parquet in ARCHIVE_DIR,
 * verified, then drops it; a point arriving late for an archived month waits in the DEFAULT
 * partition; `dcs archive restore` brings the month back with every row as it was, and the late
 * point moves in (once, although the archive held one copy of it already).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import type { ArchiveManifest } from '../../src/archive/archive-partition.ts';
import { maintainPartitions } from '../../src/archive/partitions.job.ts';
import { createLogger } from '../../src/log.ts';
import { runDcs } from '../helpers/dcs.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, uploadPoints } from '../exports/support.ts';

const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-archive-test-'));
const server = useTestServer({ ARCHIVE_DIR: archiveDir, ARCHIVE_AFTER_MONTHS: '3' });

/** Sample points of `source` dated on each of `days` (created = that day, noon UTC). */
function pointsOn(source: string, days: string[]): unknown[] {
  return days.map((day, i) => {
    const [point] = samples(i % 5);
    point['passive-data-metadata'] = { ...point['passive-data-metadata'], source, timestamp: Date.parse(`${day}T12:00:00Z`) / 1000 };
    return point;
  });
}

/** Every row of data_points as PostgreSQL prints it, in key order: equal means equal rows. */
async function rowsDigest(): Promise<{ n: number; digest: string }> {
  const { rows } = await server.db.pool.query(
    `SELECT count(*)::int AS n, md5(string_agg(p::text, '|' ORDER BY created, content_digest)) AS digest
     FROM (SELECT * FROM data_points) p`,
  );
  return rows[0];
}

async function attached(): Promise<string[]> {
  const { rows } = await server.db.pool.query(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'data_points'::regclass`);
  return rows.map((r) => r.name as string);
}

describe('archiving cold months of data_points', () => {
  it('writes them as verified Parquet, drops them, and restores them as they were with the points that came late', async () => {
    const old = pointsOn('archive-a', ['2024-01-05', '2024-01-20', '2024-06-30', '2025-02-01']);
    await uploadPoints(server, old);
    await uploadPoints(server, pointsOn('archive-b', ['2024-06-01', '2023-12-31']));
    const before = await rowsDigest();
    expect(before.n).toBe(6);
    expect(await attached()).toContain('data_points_history');

    // Two years on: everything up to three months before then is archived.
    const now = new Date(Date.UTC(new Date().getUTCFullYear() + 2, new Date().getUTCMonth(), 15));
    const counts = await maintainPartitions({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, now);
    expect(counts.archivedRows).toBe(6);
    expect(await attached()).not.toContain('data_points_history');
    expect((await rowsDigest()).n).toBe(0);

    const manifestFile = path.join(archiveDir, 'data_points', 'data_points_history', 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ArchiveManifest;
    expect(manifest).toMatchObject({ parent: 'data_points', partition: 'data_points_history', from: null, rows: 6 });
    expect(manifest.files.map((f) => f.rows)).toEqual([6]);
    // an analyst's reader sees the points: sources, typed times, the JSON
    const parquet = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(archiveDir, manifest.files[0].key)) });
    expect(parquet.map((row) => row.source).sort()).toEqual(['archive-a', 'archive-a', 'archive-a', 'archive-a', 'archive-b', 'archive-b']);
    expect(parquet.map((row) => (row.created as Date).toISOString()).sort()[0]).toBe('2023-12-31T12:00:00.000Z');
    expect(JSON.parse(parquet[0].properties as string)).toHaveProperty('passive-data-metadata');

    // An export reaching into the archived months says so; one after them does not.
    const types = [...new Set(old.map((p) => (p as { 'passive-data-metadata': { generator: string } })['passive-data-metadata'].generator.split(':')[0]))];
    const readme = async (from: string, to: string) => (await exportArchive(server, { types, sources: ['archive-a'], from, to, dateType: 'created' })).get('README.txt')!.data.toString();
    expect(await readme('2024-01-01', '2024-12-31')).toMatch(/Archived months[\s\S]*created before to \d{4}-\d{2}\t6 points\tat .*manifest\.json/);
    expect(await readme(`${now.getUTCFullYear() + 1}-01-01`, `${now.getUTCFullYear() + 1}-01-31`)).not.toContain('Archived months');

    const list = await runDcs(['archive', 'list'], { databaseUrl: server.db.url, env: { ARCHIVE_DIR: archiveDir } });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/data_points_history\s+6 points\s+… to \d{4}-\d{2}\s+archived\s+\S+manifest\.json/);

    // Late points for the archived months wait in DEFAULT: one new, one the archive already holds.
    await uploadPoints(server, [...pointsOn('archive-c', ['2024-03-03']), old[0]]);
    expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points_default`)).rows[0].n).toBe(2);

    const restore = await runDcs(['archive', 'restore', '2024-01'], { databaseUrl: server.db.url, env: { ARCHIVE_DIR: archiveDir } });
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('restored data_points_history: 6 points');
    expect(await attached()).toContain('data_points_history');
    expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points_default`)).rows[0].n).toBe(0);
    const after = await server.db.pool.query(
      `SELECT count(*)::int AS n, md5(string_agg(p::text, '|' ORDER BY created, content_digest)) AS digest FROM data_points p WHERE source <> 'archive-c'`,
    );
    expect(after.rows[0]).toEqual(before);
    expect((await server.db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE source = 'archive-c'`)).rows[0].n).toBe(1);
    expect((await server.db.pool.query(`SELECT state FROM archived_partitions WHERE partition = 'data_points_history'`)).rows[0].state).toBe('restored');
  });
});
