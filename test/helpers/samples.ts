/** The 49 real-format data points of shared/samples (copied to test/fixtures), and bundle builders. */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export type Point = Record<string, unknown> & { 'passive-data-metadata'?: Record<string, unknown> };

export const SAMPLES: Point[] = JSON.parse(readFileSync(new URL('../fixtures/sample-points.json', import.meta.url), 'utf8'));

/** A deep copy, so tests can change points freely. */
export function samples(...indexes: number[]): Point[] {
  return indexes.map((i) => structuredClone(SAMPLES[i]));
}

/** The body current extensions POST: compression=gzip&payload=<base64(gzip(JSON))>. */
export function gzipForm(points: unknown): string {
  const payload = gzipSync(Buffer.from(JSON.stringify(points, null, 2))).toString('base64');
  return new URLSearchParams({ compression: 'gzip', payload }).toString();
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
