/**
 * Whether one of the original's stored points can become one of ours, and if not why: processing
 * would reject a point without `passive-data-metadata`, `source` or `generator`, which the report
 * must name with the point's key instead (an import never skips a point silently).
 */

export type PointCheck =
  /** `source`: the source processing will give it (the original's column may say otherwise). */
  | { ok: true; source: string }
  | { ok: false; reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The source processing derives (processing/point-fields.ts): scalars as text, '' or none as missing-source. */
function sourceOf(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
  return text || 'missing-source';
}

export function checkStoredPoint(properties: string): PointCheck {
  let point: unknown;
  try {
    point = JSON.parse(properties);
  } catch (error) {
    return { ok: false, reason: `its properties are not JSON (${(error as Error).message})` };
  }
  if (!isObject(point)) return { ok: false, reason: 'its properties are not a JSON object' };
  const meta = point['passive-data-metadata'];
  if (!isObject(meta)) return { ok: false, reason: 'it has no passive-data-metadata object' };
  if (!('source' in meta)) return { ok: false, reason: 'its passive-data-metadata has no source' };
  if (!('generator' in meta)) return { ok: false, reason: 'its passive-data-metadata has no generator' };
  return { ok: true, source: sourceOf(meta.source) };
}
