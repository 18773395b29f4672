/**
 * A harvest segment's sightings, summed per product, source and data type in Node before they are
 * written: a study's participants see the same products again and again, and every row PostgreSQL
 * upserts costs ~10 µs. Kept per (source, data type) and then per product, so a (product, point)
 * pair costs one lookup by its ASIN and builds no key string (1.2 million pairs in the bench).
 */
/** A scanned point and the products found in it. */
export interface PointSightings {
  /** the point's `created`, as PostgreSQL prints it (exact to the microsecond) */
  created: string;
  /** the same as microseconds since the epoch, for comparisons */
  createdMicros: number;
  /** the point's content_digest (32 hex digits) */
  contentDigest: string;
  source: string;
  generatorId: string;
  /** ASIN → ordered */
  asins: ReadonlyMap<string, boolean>;
}

export interface SightingGroup {
  asin: string;
  source: string;
  generatorId: string;
  /** `created` of the first and last point, as PostgreSQL prints it, and in microseconds */
  first: string;
  firstMicros: number;
  last: string;
  lastMicros: number;
  points: number;
  ordered: boolean;
}

export class SightingTotals {
  /** `source \t generator id` → ASIN → group */
  private places = new Map<string, Map<string, SightingGroup>>();
  /** groups held */
  size = 0;

  /** Adds a point counted for the first time; returns its (product, point) pairs. */
  add(point: PointSightings): number {
    const place = `${point.source}\t${point.generatorId}`;
    let groups = this.places.get(place);
    if (!groups) this.places.set(place, (groups = new Map()));
    for (const [asin, ordered] of point.asins) {
      const group = groups.get(asin);
      if (!group) {
        groups.set(asin, {
          asin, source: point.source, generatorId: point.generatorId, first: point.created, firstMicros: point.createdMicros,
          last: point.created, lastMicros: point.createdMicros, points: 1, ordered,
        });
        this.size += 1;
      } else {
        group.points += 1;
        group.ordered ||= ordered;
        if (point.createdMicros < group.firstMicros) Object.assign(group, { first: point.created, firstMicros: point.createdMicros });
        if (point.createdMicros > group.lastMicros) Object.assign(group, { last: point.created, lastMicros: point.createdMicros });
      }
    }
    return point.asins.size;
  }

  /** Every group held, which are then forgotten. */
  take(): SightingGroup[] {
    const all: SightingGroup[] = [];
    for (const groups of this.places.values()) for (const group of groups.values()) all.push(group);
    this.places = new Map();
    this.size = 0;
    return all;
  }
}
