/**
 * How many password checks run at once in this process. argon2 runs on libuv's thread pool
 * (4 threads by default), which gzip, gunzip and file access of uploads share: a flood of logins
 * must not take all of it. A few checks run, some wait their turn, beyond that a login is turned
 * away at once (the caller answers 503).
 */
import { createConcurrencyGate, type ConcurrencyGate } from '../../concurrency-gate.ts';

export type LoginGate = ConcurrencyGate;

export const CONCURRENT_PASSWORD_CHECKS = 2;
export const WAITING_PASSWORD_CHECKS = 32;

export function createLoginGate(): LoginGate {
  return createConcurrencyGate(CONCURRENT_PASSWORD_CHECKS, WAITING_PASSWORD_CHECKS);
}
