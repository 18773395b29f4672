/**
 * Runs the processing worker on its own thread, so that in `dcs start` (web and worker in one
 * process) decoding and sending batches never delays upload replies on the main event loop.
 * The thread has its own connection pool and a lower scheduling priority (priority.ts); it stops
 * when the main thread posts 'stop'.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { createPool } from '../db/database.ts';
import { createLogger, type Logger } from '../log.ts';
import { startModuleThread, superviseThread } from '../threads.ts';
import { lowerBackendPriority, lowerThisThreadPriority } from './priority.ts';
import { startWorker, type Worker } from './worker.ts';

interface ThreadData {
  config: Config;
  databaseUrl: string;
}

/** Starts the worker in a new thread, started again if it ever stops unasked (threads.ts). */
export function startWorkerThread(config: Config, databaseUrl: string, log: Logger): Worker {
  let wakePosted = false;
  const thread = superviseThread(
    'processing',
    () => startModuleThread(import.meta.url, { workerData: { config, databaseUrl } satisfies ThreadData }),
    (started) => {
      // A new thread has had no wake-up yet; and it looks for pending bundles when it starts.
      wakePosted = false;
      started.on('message', () => {
        wakePosted = false;
      });
    },
    log,
  );
  return {
    wake() {
      // One message per wake-up is enough; the thread clears the flag by asking for more.
      if (wakePosted) return;
      wakePosted = true;
      thread.current().postMessage('wake');
    },
    stop: () => thread.stop((current) => current.postMessage('stop')),
  };
}

async function runInThread(): Promise<void> {
  const { config, databaseUrl } = workerData as ThreadData;
  const log = createLogger(config.logLevel).child({ thread: 'processing' });
  const pool = createPool(databaseUrl, Math.max(2, config.workerConcurrency + 1), log);
  // Uploads first (priority.ts). DATABASE_URL unset: the embedded PostgreSQL, on this machine.
  lowerThisThreadPriority(log);
  if (!config.databaseUrl) lowerBackendPriority(pool, log);
  const worker = startWorker({ pool, config, log, listenUrl: config.databaseDirectUrl ?? databaseUrl, concurrency: config.workerConcurrency });
  parentPort!.on('message', async (message: string) => {
    if (message === 'wake') {
      parentPort!.postMessage('woken');
      worker.wake();
      return;
    }
    await worker.stop();
    await pool.end();
    parentPort!.close();
  });
}

if (!isMainThread && (workerData as ThreadData | undefined)?.databaseUrl) await runInThread();
