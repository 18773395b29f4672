import { dayInZone } from '../../src/exports/zoned-time.ts';

/**
 * Today's date (YYYY-MM-DD) in `zone`, plus `plusDays`. Tests that export "today" must use the
 * server's TIME_ZONE: between midnight UTC and midnight in New York the UTC date is a day ahead.
 */
export function dayIn(zone: string, plusDays = 0): string {
  return dayInZone((Date.now() + plusDays * 86_400_000) * 1000, zone);
}
