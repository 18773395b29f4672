/**
 * A second scanner for the harvest, on its own thread with its own connection: finding ASINs in
 * page HTML keeps one core busy (htmlparser2's tokenizer reads ~70 MB/s of product markup), so on
 * a machine with a core to spare the harvest scans two chunks at once, one here and one on the
 * job's thread. Only what was found comes back (the points' sightings), not the points.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createPool } from '../db/database.ts';
import { createLogger } from '../log.ts';
import { startModuleThread } from '../threads.ts';
import { scanQueued, type Scanned } from './scan-queued.ts';

interface ThreadData {
  harvestScanThread: true;
  databaseUrl: string;
  serverSecretKey: Uint8Array | undefined;
}

interface Request {
  id: number;
  queueIds: number[];
}

type Reply = { id: number; scanned: Scanned } | { id: number; error: string };

export interface ScanThread {
  scan(queueIds: number[]): Promise<Scanned>;
  stop(): Promise<void>;
}

export function startScanThread(databaseUrl: string, serverSecretKey: Uint8Array | undefined): ScanThread {
  const thread = startModuleThread(import.meta.url, { workerData: { harvestScanThread: true, databaseUrl, serverSecretKey } satisfies ThreadData });
  const waiting = new Map<number, { resolve(s: Scanned): void; reject(e: Error): void }>();
  let next = 0;
  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  thread.on('message', (reply: Reply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ('error' in reply) w?.reject(new Error(reply.error));
    else w?.resolve(reply.scanned);
  });
  thread.on('error', failAll);
  const exited = new Promise<void>((resolve) => thread.once('exit', () => {
    failAll(new Error('the harvest scan thread exited'));
    resolve();
  }));
  return {
    scan(queueIds) {
      const id = next++;
      return new Promise<Scanned>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        thread.postMessage({ id, queueIds } satisfies Request);
      });
    },
    async stop() {
      thread.postMessage('stop');
      await exited;
    },
  };
}

async function runInThread(): Promise<void> {
  const { databaseUrl, serverSecretKey } = workerData as ThreadData;
  const pool = createPool(databaseUrl, 1, createLogger('warn').child({ thread: 'harvest-scan' }));
  parentPort!.on('message', async (message: Request | 'stop') => {
    if (message === 'stop') {
      await pool.end();
      parentPort!.close();
      return;
    }
    try {
      const scanned = await scanQueued(pool, { serverSecretKey }, message.queueIds);
      parentPort!.postMessage({ id: message.id, scanned } satisfies Reply);
    } catch (error) {
      parentPort!.postMessage({ id: message.id, error: (error as Error).message } satisfies Reply);
    }
  });
}

if (!isMainThread && (workerData as Partial<ThreadData> | undefined)?.harvestScanThread) await runInThread();
