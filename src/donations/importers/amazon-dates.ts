/**
 * Amazon's report dates: days, written M/D/YY or M/D/YYYY in the Order History Reports and ISO in
 * newer exports. The original read them with arrow ('M/D/YY', else 'M/D/YYYY') and set the wall
 * time to 12:00 in the server's TIME_ZONE, so a day stays the same day in any zone near it.
 */

export interface Day {
  year: number;
  month: number;
  day: number;
}

const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An ISO date and time; with an offset (Z, +02:00) it is an instant, without one a local time. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function validDay(year: number, month: number, day: number): Day | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC takes years 0-99 as 1900-1999; setUTCFullYear does not
  date.setUTCFullYear(year);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? { year, month, day } : undefined;
}

/** One formatter per zone: making one costs far more than using it (most of an import's time, measured). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The day an instant falls on in `timeZone`. */
function dayInZone(instant: Date, timeZone: string): Day {
  const parts = wallClock(timeZone).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/**
 * The day a report cell names, or undefined when it names none. Two-digit years as arrow reads
 * them: 69-99 are 1969-1999, 00-68 are 2000-2068. An ISO instant counts on its day in `timeZone`.
 */
export function parseReportDay(text: string, timeZone: string): Day | undefined {
  const value = text.trim();
  const us = US_DATE.exec(value);
  if (us) {
    const [, month, day, year] = us;
    const fullYear = year.length === 2 ? (Number(year) > 68 ? 1900 : 2000) + Number(year) : Number(year);
    return validDay(fullYear, Number(month), Number(day));
  }
  const iso = ISO_DAY.exec(value);
  if (iso) return validDay(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const time = ISO_TIME.exec(value);
  if (!time) return undefined;
  if (!validDay(Number(time[1]), Number(time[2]), Number(time[3]))) return undefined;
  if (!time[4]) return validDay(Number(time[1]), Number(time[2]), Number(time[3]));
  const instant = new Date(value.replace(' ', 'T'));
  return Number.isNaN(instant.getTime()) ? undefined : dayInZone(instant, timeZone);
}

export function isoDay({ year, month, day }: Day): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = wallClock(timeZone).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** 12:00 on `day` in `timeZone`, as an instant. */
export function noonIn(day: Day, timeZone: string): Date {
  const wallNoon = new Date(Date.UTC(day.year, day.month - 1, day.day, 12));
  wallNoon.setUTCFullYear(day.year);
  const guess = wallNoon.getTime() - offsetAt(wallNoon.getTime(), timeZone);
  // the offset at noon itself, in case a change of offset lies between the guess and noon
  return new Date(wallNoon.getTime() - offsetAt(guess, timeZone));
}
