/**
 * Processing yields the CPU to uploads. A participant's browser waits for each upload's reply,
 * while processing only has to keep up over minutes; where both compete for the same cores
 * (`dcs start`, the embedded PostgreSQL on the same machine), processing runs at a lower
 * scheduling priority: its thread, and the database backends of its connections when the database
 * is the embedded one (a process of this machine that we started). Idle CPU is still used in full;
 * only under contention do uploads go first. Linux only (per-thread priority); elsewhere a no-op.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';

/** Nice value: under contention, uploads get about ten times processing's share of a core. */
export const PROCESSING_NICE = 10;

/** Lowers the priority of the calling thread (Linux: a thread has its own nice value). */
export function lowerThisThreadPriority(log: Logger): void {
  if (os.platform() !== 'linux') return;
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self'))); // <pid>/task/<tid>
    lower(tid);
  } catch (error) {
    log.debug({ err: error }, 'could not lower the processing thread priority');
  }
}

/**
 * Lowers the priority of the backend of every connection `pool` opens. Only for a database server
 * on this machine that we started: a pid from another machine would name an unrelated local process.
 */
export function lowerBackendPriority(pool: Pool, log: Logger): void {
  if (os.platform() !== 'linux') return;
  pool.on('connect', (client) => {
    // The pid the server sent when the connection opened (BackendKeyData): asking for it with a
    // query here ran alongside the query the pool hands the new connection to, which pg
    // deprecates ("client.query() when the client is already executing a query").
    const pid = (client as unknown as { processID: number | null }).processID;
    try {
      if (pid) lower(pid);
    } catch (error) {
      log.debug({ err: error }, 'could not lower a database backend priority');
    }
  });
}


/** Never raises a priority: a server started with a higher nice value keeps it. */
function lower(id: number): void {
  os.setPriority(id, Math.max(os.getPriority(id), PROCESSING_NICE));
}
