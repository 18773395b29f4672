/**
 * Which uploads this process takes in now, decided before a body is read:
 *  - bytes in flight: an upload reserves its declared Content-Length (MAX_BODY_BYTES when it has
 *    none) until its reply is sent; one that does not fit waits, first come first served, for up to
 *    QUEUE_WAIT_MS and is then refused as `busy`. Reserving the whole declared size up front (not
 *    bytes as they arrive) means an upload let in can always finish: partly read bodies can never
 *    wait on each other. An upload alone is always let in, however large (it is within MAX_BODY_BYTES).
 *  - per client address, per minute: a token bucket of uploads and one of bytes, each holding a
 *    minute's worth (so a burst of a minute's uploads passes at once) and refilling continuously.
 * Refusals are answered so that every client keeps the points and sends them again (replies.ts).
 */

/** How long an upload waits for bytes in flight to be released before it is refused. */
export const QUEUE_WAIT_MS = 10_000;
/** Client addresses remembered; beyond it the least recently seen are forgotten (their buckets refill anyway). */
const MAX_ADDRESSES = 50_000;

export interface AdmissionLimits {
  inflightBytes: number;
  /** 0: no limit */
  ratePerMinute: number;
  /** 0: no limit */
  bytesPerMinute: number;
  /** default QUEUE_WAIT_MS */
  queueWaitMs?: number;
}

export type Admitted = { verdict: 'admitted'; release: () => void };
export type Refused = { verdict: 'busy' | 'rate-limited'; retryAfterSeconds: number };

export interface AdmissionStats {
  inflightBytes: number;
  waiting: number;
  refusedBusy: number;
  refusedRateLimited: number;
}

export interface Admission {
  /** Reserves `bytes` for an upload from `address`. */
  admit(address: string, bytes: number): Promise<Admitted | Refused>;
  /**
   * Takes `bytes` more from the address's byte bucket (it may go below zero, and the address then
   * waits until it refills): the bytes a gzip body inflated to, so that small bodies that inflate
   * to tens of MB cannot make a client cost more than UPLOAD_BYTES_PER_MINUTE of work.
   */
  charge(address: string, bytes: number): void;
  stats(): AdmissionStats;
}

interface Bucket {
  uploads: number;
  bytes: number;
  at: number;
}

interface Waiter {
  bytes: number;
  admit: () => void;
}

export function createAdmission(limits: AdmissionLimits, now: () => number = Date.now): Admission {
  let inflight = 0;
  const queue: Waiter[] = [];
  const buckets = new Map<string, Bucket>();
  const refused = { busy: 0, rateLimited: 0 };

  /** Takes one upload of `bytes` from the address's buckets; returns the seconds to wait when it cannot. */
  const takeTokens = (address: string, bytes: number): number => {
    const t = now();
    let bucket = buckets.get(address);
    if (bucket) {
      buckets.delete(address); // re-inserted below: the map's order is then least recently seen first
      const minutes = (t - bucket.at) / 60_000;
      bucket.uploads = Math.min(limits.ratePerMinute, bucket.uploads + minutes * limits.ratePerMinute);
      bucket.bytes = Math.min(limits.bytesPerMinute, bucket.bytes + minutes * limits.bytesPerMinute);
      bucket.at = t;
    } else {
      bucket = { uploads: limits.ratePerMinute, bytes: limits.bytesPerMinute, at: t };
      if (buckets.size >= MAX_ADDRESSES) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(address, bucket);
    // An upload larger than a whole minute's allowance passes when the bucket is full.
    const neededBytes = Math.min(bytes, limits.bytesPerMinute);
    const short = Math.max(
      limits.ratePerMinute > 0 ? (1 - bucket.uploads) / limits.ratePerMinute : 0,
      limits.bytesPerMinute > 0 ? (neededBytes - bucket.bytes) / limits.bytesPerMinute : 0,
    );
    if (short > 0) return Math.max(1, Math.ceil(short * 60));
    if (limits.ratePerMinute > 0) bucket.uploads -= 1;
    if (limits.bytesPerMinute > 0) bucket.bytes -= neededBytes;
    return 0;
  };

  const fits = (bytes: number) => inflight === 0 || inflight + bytes <= limits.inflightBytes;

  const release = (bytes: number) => {
    inflight -= bytes;
    while (queue.length > 0 && fits(queue[0].bytes)) queue.shift()!.admit();
  };

  const reserve = (bytes: number): Admitted => {
    inflight += bytes;
    let released = false;
    return { verdict: 'admitted', release: () => {
      if (released) return;
      released = true;
      release(bytes);
    } };
  };

  return {
    async admit(address, bytes) {
      if (limits.ratePerMinute > 0 || limits.bytesPerMinute > 0) {
        const wait = takeTokens(address, bytes);
        if (wait > 0) {
          refused.rateLimited += 1;
          return { verdict: 'rate-limited', retryAfterSeconds: wait };
        }
      }
      if (queue.length === 0 && fits(bytes)) return reserve(bytes);
      return new Promise<Admitted | Refused>((resolve) => {
        const waiter: Waiter = {
          bytes,
          admit: () => {
            clearTimeout(timer);
            resolve(reserve(bytes));
          },
        };
        const timer = setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          refused.busy += 1;
          resolve({ verdict: 'busy', retryAfterSeconds: 60 });
          // the head may have been the one blocking those behind it
          while (queue.length > 0 && fits(queue[0].bytes)) queue.shift()!.admit();
        }, limits.queueWaitMs ?? QUEUE_WAIT_MS);
        queue.push(waiter);
      });
    },
    charge(address, bytes) {
      const bucket = buckets.get(address);
      if (bucket && limits.bytesPerMinute > 0) bucket.bytes -= bytes;
    },
    stats: () => ({ inflightBytes: inflight, waiting: queue.length, refusedBusy: refused.busy, refusedRateLimited: refused.rateLimited }),
  };
}
