/**
 * What processing derives from one data point's `passive-data-metadata` (pdk-server.md §6.2,
 * webmunk-clients.md §2): whether it is usable, its source, generator, user agent and client time.
 * Runs in Node, on the processing thread, so PostgreSQL only parses, hashes and stores.
 */

export type Rejection = 'not-an-object' | 'missing-metadata' | 'missing-source' | 'missing-generator';

export interface PointFields {
  source: string;
  generatorId: string;
  generator: string;
  userAgent: string;
  /** Client time in epoch seconds, from metadata `timestamp` or body `date` (ms); null if neither. */
  epochSeconds: number | null;
  epochFrom: 'timestamp' | 'date' | null;
  /** Body `date` as text, tried as an ISO time (in SQL) when there is no epoch time. */
  dateText: string | null;
}

const NUMERIC_TEXT = /^\s*-?[0-9]{1,20}(\.[0-9]{0,20})?([eE][-+]?[0-9]{1,2})?\s*$/;
/** Past year 5138 is what a millisecond value sent as seconds looks like. */
const MAX_EPOCH_SECONDS = 100_000_000_000;

/** Epoch seconds from a number or numeric string in `unitsPerSecond`, or null if implausible. */
function epoch(value: unknown, unitsPerSecond: number): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && NUMERIC_TEXT.test(value)) n = Number(value.trim());
  else return null;
  const seconds = n / unitsPerSecond;
  return Number.isFinite(seconds) && seconds >= 0 && seconds < MAX_EPOCH_SECONDS ? seconds : null;
}

/** Scalars as PostgreSQL's `->>` would give them; objects and arrays are not usable here. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** User agents of recent generators: a participant's points repeat the same generator text. */
const userAgents = new Map<string, string>();

/** The original trims spaces around the text after the first colon (or around the whole string). */
function userAgentOf(generator: string): string {
  let userAgent = userAgents.get(generator);
  if (userAgent === undefined) {
    const colon = generator.indexOf(':');
    userAgent = (colon >= 0 ? generator.slice(colon + 1) : generator).replace(/^ +| +$/g, '');
    if (userAgents.size >= 1024) userAgents.clear();
    userAgents.set(generator, userAgent);
  }
  return userAgent;
}

export function describePoint(point: unknown): PointFields | Rejection {
  if (!isPlainObject(point)) return 'not-an-object';
  const meta = point['passive-data-metadata'];
  if (!isPlainObject(meta)) return 'missing-metadata';
  if (!('source' in meta)) return 'missing-source';
  if (!('generator' in meta)) return 'missing-generator';

  const rawGenerator = meta.generator;
  const generator = rawGenerator !== null && typeof rawGenerator === 'object'
    ? JSON.stringify(rawGenerator)
    : (scalarText(rawGenerator) ?? '');
  const byTimestamp = epoch(meta.timestamp, 1);
  const byDate = byTimestamp === null ? epoch(point.date, 1000) : null;
  return {
    source: scalarText(meta.source) || 'missing-source',
    generatorId: (typeof meta['generator-id'] === 'string' && meta['generator-id']) || 'unknown-generator',
    generator,
    userAgent: userAgentOf(generator),
    epochSeconds: byTimestamp ?? byDate,
    epochFrom: byTimestamp !== null ? 'timestamp' : byDate !== null ? 'date' : null,
    dateText: byTimestamp === null && byDate === null && typeof point.date === 'string' ? point.date : null,
  };
}
