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

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
/** local day number (days since 1970-01-01) → YYYY-MM-DD, and offset minutes → ±HH:MM: few of each in an export */
const DAYS = new Map<number, string>();
const OFFSET_TEXTS = new Map<number, string>();

function dayText(day: number): string {
  let text = DAYS.get(day);
  if (text === undefined) {
    const date = new Date(day * 86_400_000);
    text = `${date.getUTCFullYear()}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]}`;
    if (DAYS.size > 100_000) DAYS.clear();
    DAYS.set(day, text);
  }
  return text;
}

function offsetText(minutes: number): string {
  let text = OFFSET_TEXTS.get(minutes);
  if (text === undefined) {
    const abs = Math.abs(minutes);
    text = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${TWO_DIGITS[abs % 60]}`;
    OFFSET_TEXTS.set(minutes, text);
  }
  return text;
}

/**
 * `micros` (microseconds since the epoch) as ISO-8601 in `zone`, Python isoformat() style. Two of
 * these per exported row: built from cached day and offset texts rather than a Date each time.
 */
export function isoInZone(micros: number, zone: string): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const offset = offsetMinutes(zone, Math.floor(micros / 1000));
  const local = seconds + offset * 60;
  const day = Math.floor(local / 86_400);
  const second = local - day * 86_400;
  const time = `${TWO_DIGITS[Math.floor(second / 3600)]}:${TWO_DIGITS[Math.floor(second / 60) % 60]}:${TWO_DIGITS[second % 60]}`;
  return `${dayText(day)}T${time}${fraction ? `.${String(fraction).padStart(6, '0')}` : ''}${offsetText(offset)}`;
}

/** The calendar day (YYYY-MM-DD) of `micros` in `zone`. */
export function dayInZone(micros: number, zone: string): string {
  return isoInZone(micros, zone).slice(0, 10);
}
