/**
 * At most `concurrent` tasks at once in this process; up to `waiting` more wait their turn, in
 * order; beyond that a task is turned away at once ('busy'), so the caller can answer 503 rather
 * than let a flood queue without bound. The dashboard's password checks and the API's queries use it.
 */
export interface ConcurrencyGate {
  /** Runs `task` when a slot is free; 'busy' (without running it) when too many already wait. */
  run<T>(task: () => Promise<T>): Promise<T | 'busy'>;
}

export function createConcurrencyGate(concurrent: number, waiting: number): ConcurrencyGate {
  let running = 0;
  const queue: Array<() => void> = [];
  return {
    async run(task) {
      if (running >= concurrent) {
        if (queue.length >= waiting) return 'busy';
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        running += 1;
      }
      try {
        return await task();
      } finally {
        // The slot passes straight to the next waiter, so `running` stays counted for it.
        const next = queue.shift();
        if (next) next();
        else running -= 1;
      }
    },
  };
}
