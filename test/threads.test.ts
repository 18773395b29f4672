/** Supervised threads (src/threads.ts): a thread that dies is started again, with back-off, until stopped. */
import { Worker as Thread } from 'node:worker_threads';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { superviseThread } from '../src/threads.ts';

const FIXTURE = new URL('./fixtures/test-thread.mjs', import.meta.url);

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const waitUntil = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('superviseThread', () => {
  it('starts a thread that exits again, waiting twice as long after each failed start, and logs each', async () => {
    const { log, lines } = capturingLogger();
    let started = 0;
    const supervised = superviseThread('test', () => new Thread(FIXTURE, { workerData: { exitAfterMs: 5 } }), (thread) => {
      thread.on('message', () => (started += 1));
    }, log, 20);
    await waitUntil(() => started >= 4);
    await supervised.stop((thread) => thread.postMessage('stop'));
    const stops = lines.filter((l) => l.msg === 'test thread stopped; starting it again');
    expect(stops.length).toBeGreaterThanOrEqual(3);
    expect(stops.slice(0, 3).map((l) => [l.exitCode, l.restartInMs])).toEqual([[3, 20], [3, 40], [3, 80]]);
  });

  it('stops a running thread when asked, and does not start it again', async () => {
    const { log, lines } = capturingLogger();
    let started = 0;
    const supervised = superviseThread('test', () => new Thread(FIXTURE, { workerData: {} }), (thread) => {
      thread.on('message', () => (started += 1));
    }, log, 20);
    await waitUntil(() => started === 1);
    await supervised.stop((thread) => thread.postMessage('stop'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(1);
    expect(lines.filter((l) => l.level === 50)).toEqual([]);
  });
});
