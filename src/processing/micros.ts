/**
 * Times as PostgreSQL holds a timestamptz: integer microseconds since 2000-01-01 00:00 UTC. A JS
 * Date has only milliseconds, and `created` is half of each point's unique key, so processing
 * keeps times in this form from the database (or from the point) to the COPY.
 */
import { POSTGRES_EPOCH_SECONDS } from '../db/copy-binary.ts';

export { POSTGRES_EPOCH_SECONDS };

/** C's rint(): to the nearest integer, halves to even (JS's Math.round sends halves up). */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `to_timestamp(seconds)` exactly as PostgreSQL computes it (float8_timestamptz: subtract the
 * 2000 epoch, multiply by 10^6, rint), so a point's `created` is the microsecond it always was.
 */
export function epochSecondsToMicros(seconds: number): number {
  return rint((seconds - POSTGRES_EPOCH_SECONDS) * 1e6);
}

/**
 * SQL for the timestamptz of an int8 of microseconds. Exact: the interval product of an integer
 * below 2^53 is that many microseconds (test/processing/stored-like-before.test.ts checks it against the
 * text form), and it costs PostgreSQL and this process less than timestamp text.
 */
export const timestampFromMicros = (int8: string) => `(timestamptz '2000-01-01 00:00:00+00' + ${int8} * interval '1 microsecond')`;

/**
 * The timestamptz text of `micros` (microseconds since 2000), exact to the microsecond: for a
 * parameter compared with a partition key (bundles.received_at), since PostgreSQL prunes
 * partitions with a value given as such, not with timestampFromMicros's arithmetic.
 */
export function timestampTextFromMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms + POSTGRES_EPOCH_SECONDS * 1000).toISOString();
  return `${iso.slice(0, -1)}${String(micros - ms * 1000).padStart(3, '0')}Z`;
}

/** An int8[] (or int4[]) parameter as one array literal: cheaper than an array of many values. */
export function integerArray(values: number[]): string {
  return `{${values.join(',')}}`;
}

