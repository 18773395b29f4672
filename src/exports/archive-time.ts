/**
 * The time written on every entry of an export archive. It is not when the archive was written:
 * the same export run again on the same data must give the same bytes (an analyst proves two
 * exports equal by their checksums). It is the last moment of the data window instead, the
 * last two seconds (a ZIP's step) of the `to` day in TIME_ZONE, so unzipped files carry the day
 * their data ends; an export without a `to` day has no such moment and gets 1980-01-01 00:00,
 * the earliest time a ZIP can hold (as reproducible builds use).
 */
import type { ExportRequest } from './export-request.ts';
import { isoInZone } from './zoned-time.ts';
import { zipTimeAt, type ZipTime } from './zip-records.ts';

const EARLIEST = zipTimeAt('1980-01-01T00:00:00', Date.UTC(1980, 0, 1) / 1000);

export function archiveTime(request: Pick<ExportRequest, 'to'>, timeZone: string): ZipTime {
  if (!request.to) return EARLIEST;
  return zipTimeAt(`${request.to}T23:59:58`, startOfNextDaySeconds(request.to, timeZone) - 2);
}

/** The instant (Unix seconds) the day after `day` begins in `zone`: the zone's offset, corrected once for a change at that hour. */
function startOfNextDaySeconds(day: string, zone: string): number {
  const wall = Date.parse(`${day}T00:00:00Z`) / 1000 + 86_400;
  let instant = wall;
  for (let step = 0; step < 2; step++) {
    const local = Date.parse(`${isoInZone(instant * 1_000_000, zone).slice(0, 19)}Z`) / 1000;
    instant += wall - local;
  }
  return instant;
}
