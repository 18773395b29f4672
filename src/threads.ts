/**
 * Worker threads that run one of our modules. Compiled (dist/, scripts/build.js) the module is
 * plain JavaScript and runs as it is. As TypeScript (the tests, or src/ edited since the last
 * build), the thread needs the tsx loader, which threads do not inherit on every Node version:
 * it is registered first.
 */
import { Worker as Thread, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from './log.ts';

export function startModuleThread(moduleUrl: string, options: Omit<WorkerOptions, 'eval'>): Thread {
  if (!moduleUrl.endsWith('.ts')) return new Thread(new URL(moduleUrl), options);
  return new Thread(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`,
    { ...options, eval: true },
  );
}

export interface SupervisedThread {
  /** The thread running now (a new one after each restart). */
  current(): Thread;
  /** Ends supervision and runs `ask` on the current thread; resolves once it has exited. */
  stop(ask: (thread: Thread) => void): Promise<void>;
}

/** A thread that ran this long before it stopped starts again at once (its failures are forgotten). */
const HEALTHY_MS = 60_000;

/**
 * Keeps a long-lived thread running: if it exits unasked (an uncaught error, a failed start), it
 * is logged and started again after 1 s, 2 s, 4 s … up to 60 s between failed starts, as the
 * embedded PostgreSQL is. A server whose processing thread died would otherwise go on taking
 * uploads and never process them. `onStart` wires each new thread (its messages).
 */
export function superviseThread(name: string, start: () => Thread, onStart: (thread: Thread) => void, log: Logger, baseDelayMs = 1_000): SupervisedThread {
  let stopping = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let thread!: Thread;
  let exited!: Promise<void>;
  const launch = () => {
    const startedAt = Date.now();
    thread = start();
    thread.on('error', (error) => log.error({ err: error, thread: name }, `${name} thread failed`));
    exited = new Promise((resolve) => {
      thread.once('exit', (code) => {
        resolve();
        if (stopping) return;
        if (Date.now() - startedAt >= HEALTHY_MS) failures = 0;
        const delayMs = Math.min(60_000, baseDelayMs * 2 ** failures);
        failures += 1;
        log.error({ thread: name, exitCode: code, restartInMs: delayMs }, `${name} thread stopped; starting it again`);
        timer = setTimeout(launch, delayMs);
      });
    });
    onStart(thread);
  };
  launch();
  return {
    current: () => thread,
    async stop(ask) {
      stopping = true;
      clearTimeout(timer);
      ask(thread);
      await exited;
    },
  };
}
