/**
 * Worker threads that run one of our modules. Compiled (dist/, scripts/build.js) the module is
 * plain JavaScript and runs as it is. As TypeScript (the tests, or src/ edited since the last
 * build), the thread needs the tsx loader, which threads do not inherit on every Node version:
 * it is registered first.
 */
import { Worker as Thread, type WorkerOptions } from 'node:worker_threads';

export function startModuleThread(moduleUrl: string, options: Omit<WorkerOptions, 'eval'>): Thread {
  if (!moduleUrl.endsWith('.ts')) return new Thread(new URL(moduleUrl), options);
  return new Thread(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`,
    { ...options, eval: true },
  );
}
