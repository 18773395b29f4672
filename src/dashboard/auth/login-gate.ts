/**
 * How many password checks run at once in this process. argon2 runs on libuv's thread pool
 * (4 threads by default), which gzip, gunzip and file access of uploads share: a flood of logins
 * must not take all of it. At most `concurrent` checks run; up to `waiting` more wait their turn;
 * beyond that a login is turned away at once (the caller answers 503).
 */
export interface LoginGate {
  /** Runs `check` when a slot is free; 'busy' (without running it) when too many already wait. */
  run<T>(check: () => Promise<T>): Promise<T | 'busy'>;
}

export const CONCURRENT_PASSWORD_CHECKS = 2;
export const WAITING_PASSWORD_CHECKS = 32;

export function createLoginGate(concurrent = CONCURRENT_PASSWORD_CHECKS, waiting = WAITING_PASSWORD_CHECKS): LoginGate {
  let running = 0;
  const queue: Array<() => void> = [];
  return {
    async run(check) {
      if (running >= concurrent) {
        if (queue.length >= waiting) return 'busy';
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        running += 1;
      }
      try {
        return await check();
      } finally {
        // The slot passes straight to the next waiter, so `running` stays counted for it.
        const next = queue.shift();
        if (next) next();
        else running -= 1;
      }
    },
  };
}
