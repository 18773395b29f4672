/**
 * The processing worker: runs continuously, woken by new bundles rather than on a timer: directly
 * by uploads to this process (`wake`), and by LISTEN dcs_bundles for uploads elsewhere; polls
 * every few seconds as a safety net. Several loops (WORKER_CONCURRENCY) and several worker
 * processes share the queue safely.
 *
 * Uploads come first: while this process is receiving uploads, only the first loop processes, so
 * replies to clients are not slowed by a full processing load on the same machine; the other loops
 * join as soon as uploads pause (UPLOAD_QUIET_MS), and the backlog is cleared at full speed. The
 * first loop, too, rests after each batch for as long as the batch took while uploads arrive:
 * processing's WAL delays every upload's commit, which nice values cannot help (measured: uploads
 * accepted during processing rose from 0.54 to 0.71-0.91 of the accept limit, BENCHMARKS.md). It
 * stops resting once MAX_RESTING_BACKLOG bundles wait, so that a steady stream of uploads with no
 * pause never leaves processing behind for good.
 */
import pg from 'pg';
import { CHANNELS, listen as listenOn } from '../db/channels.ts';
import { isDatabaseUnavailable } from '../errors.ts';
import { processBatch, type ProcessingDeps } from './process-bundles.ts';

const POLL_MS = 5_000;
const RETRY_MS = 2_000;
const UPLOAD_QUIET_MS = 300;
/** Pending bundles beyond which the first loop no longer rests while uploads arrive. */
const MAX_RESTING_BACKLOG = 2_000;

export interface Worker {
  /** An upload to this process stored new bundles: stop sleeping. */
  wake(): void;
  /** Finishes the batches in progress, then stops. */
  stop(): Promise<void>;
}

/**
 * `listenUrl`: where the LISTEN connection goes, a session of its own: DATABASE_DIRECT_URL when
 * set (a transaction-mode PgBouncer cannot hold a LISTEN), else the database's URL.
 */
export function startWorker(deps: ProcessingDeps & { listenUrl: string; concurrency: number }): Worker {
  const { log } = deps;
  let stopped = false;
  const stopping = new AbortController();
  let wake: (() => void)[] = [];
  // Counts wake-ups, so one that arrives while a loop is busy is not lost when it goes to sleep.
  let wakeups = 0;
  const wakeAll = () => {
    wakeups += 1;
    const waiting = wake;
    wake = [];
    for (const resolve of waiting) resolve();
  };
  // Once stopped, never sleep: a loop that was busy when stop() woke everyone must not wait a poll.
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (stopped) return resolve();
    const timer = setTimeout(() => {
      wake = wake.filter((w) => w !== done);
      resolve();
    }, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    wake.push(done);
  });

  let listener: pg.Client | undefined;
  const listen = async () => {
    while (!stopped) {
      const client = new pg.Client({ connectionString: deps.listenUrl, application_name: 'webmunk-dcs-worker' });
      try {
        await client.connect();
        client.on('notification', wakeAll);
        await listenOn(client, CHANNELS.bundles);
        listener = client;
        await new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
          if (stopped) resolve(); // stop() ran while this client was connecting: it could not end it
        });
      } catch (error) {
        if (!stopped) log.warn({ err: error }, 'worker cannot LISTEN; retrying');
      }
      listener = undefined;
      await client.end().catch(() => undefined);
      if (!stopped) await sleep(RETRY_MS);
    }
  };

  let lastUploadAt = 0;
  const uploading = () => Date.now() - lastUploadAt < UPLOAD_QUIET_MS;
  /** True while few bundles wait (counting stops at the bound, through the pending index). */
  const backlogIsSmall = async () => {
    const { rows } = await deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM bundles WHERE status = 'pending' LIMIT ${MAX_RESTING_BACKLOG + 1}) p`,
    );
    return rows[0].n <= MAX_RESTING_BACKLOG;
  };
  const loop = async (n: number) => {
    while (!stopped) {
      if (n > 0 && uploading()) {
        await new Promise((resolve) => setTimeout(resolve, UPLOAD_QUIET_MS / 3));
        continue;
      }
      try {
        const wakeupsBefore = wakeups;
        const started = Date.now();
        const result = await processBatch({ ...deps, signal: stopping.signal });
        if (result.bundles > 0 || result.failed > 0) {
          log.debug({ loop: n, ...result }, 'processed bundles');
          // Not sleep(): the next upload's wake-up would end the rest at once.
          if (uploading() && !stopped && (await backlogIsSmall())) await new Promise((resolve) => setTimeout(resolve, Date.now() - started));
          continue;
        }
        if (wakeups === wakeupsBefore) await sleep(POLL_MS);
      } catch (error) {
        if (isDatabaseUnavailable(error)) log.warn({ err: error }, 'database unavailable; processing paused');
        else log.error({ err: error }, 'processing failed');
        await sleep(RETRY_MS);
      }
    }
  };

  const listening = listen();
  const loops = Array.from({ length: deps.concurrency }, (_, i) => loop(i));
  return {
    wake() {
      lastUploadAt = Date.now();
      wakeAll();
    },
    async stop() {
      stopped = true;
      stopping.abort();
      wakeAll();
      await listener?.end().catch(() => undefined);
      await Promise.all([listening, ...loops]);
    },
  };
}
