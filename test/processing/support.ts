/** Helpers shared by the processing tests: uploads over real HTTP and small database readers. */
import { expect } from 'vitest';
import { FORM, gzipForm, type Point } from '../helpers/samples.ts';
import type { TestServer } from '../helpers/server.ts';

/**
 * POSTs `points` the way current extensions do (gzip form); expects 201. Returns the new bundle id
 * (the newest one: only meaningful when uploads are not concurrent).
 */
export async function postGzip(server: TestServer, points: unknown): Promise<number> {
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: FORM, body: gzipForm(points) });
  expect(response.status).toBe(201);
  return latestBundleId(server);
}

/** Uploads raw JSON text with the CREATE method (G0/G1a clients); expects 201. Returns the bundle id. */
export async function createJson(server: TestServer, jsonText: string): Promise<number> {
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'CREATE',
    headers: { 'content-type': 'application/json' },
    body: jsonText,
  });
  expect(response.status).toBe(201);
  return latestBundleId(server);
}

export async function latestBundleId(server: TestServer): Promise<number> {
  const { rows } = await server.db.pool.query<{ id: string }>('SELECT max(id) AS id FROM bundles');
  return Number(rows[0].id);
}

export interface BundleRow {
  id: number;
  status: string;
  attempts: number;
  error: string | null;
  point_count: number | null;
  points_added: number | null;
  points_rejected: number | null;
  rejections: Record<string, number> | null;
  sources: string[] | null;
  received_at: Date;
}

export async function bundle(server: TestServer, id: number): Promise<BundleRow> {
  const { rows } = await server.db.pool.query(
    `SELECT id::int, status, attempts, error, point_count, points_added, points_rejected, rejections, sources, received_at
     FROM bundles WHERE id = $1`,
    [id],
  );
  expect(rows).toHaveLength(1);
  return rows[0] as BundleRow;
}

export async function count(server: TestServer, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await server.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0].n);
}

/** Real number of data points per source, from data_points. */
export async function realCounts(server: TestServer): Promise<Record<string, number>> {
  const { rows } = await server.db.pool.query<{ source: string; n: string }>('SELECT source, count(*) AS n FROM data_points GROUP BY source');
  return Object.fromEntries(rows.map((r) => [r.source, Number(r.n)]));
}

/** data_sources.point_count per source (only sources with a non-zero count). */
export async function recordedCounts(server: TestServer): Promise<Record<string, number>> {
  const { rows } = await server.db.pool.query<{ source: string; point_count: string }>('SELECT source, point_count FROM data_sources WHERE point_count <> 0');
  return Object.fromEntries(rows.map((r) => [r.source, Number(r.point_count)]));
}

/** Gives every point in `points` the participant `source` (returns the same array). */
export function withSource(points: Point[], source: string): Point[] {
  for (const point of points) point['passive-data-metadata']!.source = source;
  return points;
}

/** Number of points per source in `points` (what the fixture says should be stored). */
export function tally(points: Point[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const point of points) {
    const source = String(point['passive-data-metadata']!.source ?? '') || 'missing-source';
    out[source] = (out[source] ?? 0) + 1;
  }
  return out;
}
