/** The cap on tasks at once (password checks, API queries): a few run, some wait their turn, the rest are turned away. */
import { describe, expect, it } from 'vitest';
import { createConcurrencyGate } from '../src/concurrency-gate.ts';

describe('concurrency gate', () => {
  it('runs at most `concurrent` checks at once, queues `waiting` more, and answers busy beyond', async () => {
    const gate = createConcurrencyGate(2, 3);
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const check = () => new Promise<string>((resolve) => {
      running += 1;
      most = Math.max(most, running);
      releases.push(() => {
        running -= 1;
        resolve('checked');
      });
    });
    const results = Array.from({ length: 7 }, () => gate.run(check));
    // 2 running, 3 waiting: the last two are turned away without running.
    expect(await results[5]).toBe('busy');
    expect(await results[6]).toBe('busy');
    expect(running).toBe(2);
    for (let released = 0; released < 5; released += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      releases[released]();
    }
    expect(await Promise.all(results.slice(0, 5))).toEqual(Array(5).fill('checked'));
    expect(most).toBe(2);
    // Every slot is free again.
    expect(await gate.run(async () => 'again')).toBe('again');
  });

  it('frees the slot when a check throws', async () => {
    const gate = createConcurrencyGate(1, 0);
    await expect(gate.run(async () => { throw new Error('argon2 failed'); })).rejects.toThrow('argon2 failed');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});
