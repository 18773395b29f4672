/**
 * Requests per client address and minute, in this process's memory: app-config.json tells a valid
 * identifier from an invalid one (rex-core takes any 2xx as valid), so it must not be an oracle
 * anyone can ask millions of times. A fixed one-minute window; the counts are dropped when it ends,
 * so memory holds at most the addresses of one minute.
 */
export interface RateLimiter {
  /** Counts a request from `address`; false when it is over the limit. */
  allow(address: string): boolean;
}

/** `perMinute` 0: no limit. */
export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  let windowStart = now();
  let counts = new Map<string, number>();
  return {
    allow(address) {
      if (perMinute === 0) return true;
      if (now() - windowStart >= 60_000) {
        windowStart = now();
        counts = new Map();
      }
      const count = (counts.get(address) ?? 0) + 1;
      counts.set(address, count);
      return count <= perMinute;
    },
  };
}
