/**
 * Runs the processing worker on its own thread, so that in `dcs start` (web and worker in one
 * process) decoding and sending batches never delays upload replies on the main event loop.
 * The thread has its own connection pool and a lower scheduling priority (priority.ts); it stops
 * when the main thread posts 'stop'.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { createPool } from '../db/database.ts';
import { createLogger } from '../log.ts';
import { startModuleThread } from '../threads.ts';
import { lowerBackendPriority, lowerThisThreadPriority } from './priority.ts';
import { startWorker, type Worker } from './worker.ts';

interface ThreadData {
  config: Config;
  databaseUrl: string;
}

/** Starts the worker in a new thread. */
export function startWorkerThread(config: Config, databaseUrl: string): Worker {
  const thread = startModuleThread(import.meta.url, { workerData: { config, databaseUrl } satisfies ThreadData });
  let wakePosted = false;
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  thread.on('message', () => {
    wakePosted = false;
  });
  thread.on('error', (error) => {
    createLogger(config.logLevel).error({ err: error }, 'processing thread failed');
  });
  return {
    wake() {
      // One message per wake-up is enough; the thread clears the flag by asking for more.
      if (wakePosted) return;
      wakePosted = true;
      thread.postMessage('wake');
    },
    async stop() {
      thread.postMessage('stop');
      await exited;
    },
  };
}

async function runInThread(): Promise<void> {
  const { config, databaseUrl } = workerData as ThreadData;
  const log = createLogger(config.logLevel).child({ thread: 'processing' });
  const pool = createPool(databaseUrl, Math.max(2, config.workerConcurrency + 1), log);
  // Uploads first (priority.ts). DATABASE_URL unset: the embedded PostgreSQL, on this machine.
  lowerThisThreadPriority(log);
  if (!config.databaseUrl) lowerBackendPriority(pool, log);
  const worker = startWorker({ pool, config, log, databaseUrl, concurrency: config.workerConcurrency });
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
