/**
 * Times as the original's exports printed them: Python's `datetime.isoformat()` of the instant in
 * a zone, e.g. `2023-09-14T11:43:09.482000-04:00` (microseconds left out when zero). Offsets are
 * computed once per zone and quarter hour (every real zone changes offset on a quarter hour), so
 * a 2-million-point export does not pay for Intl 8 million times.
 */

const ZONE_CHECKS = new Map<string, boolean>();

/** True if `name` is a time zone this Node knows (cached: an export asks once per point). */
export function isKnownZone(name: unknown): name is string {
  if (typeof name !== 'string' || name === '') return false;
  let known = ZONE_CHECKS.get(name);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      known = true;
    } catch {
      known = false;
    }
    if (ZONE_CHECKS.size < 10_000) ZONE_CHECKS.set(name, known);
  }
  return known;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
/** zone → (quarter hour → minutes east of UTC) */
const OFFSETS = new Map<string, Map<number, number>>();
const QUARTER_HOUR_MS = 15 * 60 * 1000;

/** Minutes east of UTC of `zone` at `ms`. */
function offsetMinutes(zone: string, ms: number): number {
  if (zone === 'UTC') return 0;
  const bucket = Math.floor(ms / QUARTER_HOUR_MS);
  let offsets = OFFSETS.get(zone);
  if (!offsets) {
    offsets = new Map();
    OFFSETS.set(zone, offsets);
  }
  const cached = offsets.get(bucket);
  if (cached !== undefined) return cached;
  let formatter = FORMATTERS.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    FORMATTERS.set(zone, formatter);
  }
  const at = bucket * QUARTER_HOUR_MS;
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(at)) parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  const minutes = Math.round((wall - at) / 60_000);
  if (offsets.size > 100_000) offsets.clear();
  offsets.set(bucket, minutes);
  return minutes;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `micros` (microseconds since the epoch) as ISO-8601 in `zone`, Python isoformat() style. */
export function isoInZone(micros: number, zone: string): string {
  const ms = Math.floor(micros / 1000);
  const fraction = micros - Math.floor(micros / 1_000_000) * 1_000_000;
  const offset = offsetMinutes(zone, ms);
  const wall = new Date(ms + offset * 60_000);
  const date = `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}T${time}${fraction ? `.${pad(fraction, 6)}` : ''}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The calendar day (YYYY-MM-DD) of `micros` in `zone`. */
export function dayInZone(micros: number, zone: string): string {
  return isoInZone(micros, zone).slice(0, 10);
}
