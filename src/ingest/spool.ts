/**
 * The upload spool (docs/operations.md, "The upload spool"): where an upload goes when the
 * database cannot take it, so that it is still kept and answered 201 like any other.
 *
 * - One file per upload (spool-file.ts), written under `.incoming/`, fsynced, then renamed into
 *   the spool directory and the directory fsynced: a file in the directory is whole and durable,
 *   and it is there before the reply goes out. Names start with the arrival time, so name order
 *   is arrival order.
 * - Draining inserts the files into `bundles` in name order, in batches, each batch in one
 *   transaction, and removes them after the commit. The upload's receipt, with the arrival time
 *   the file keeps, is unique in `bundles`, so a crash between the commit and the removal only
 *   means the next drain finds the bundle stored and removes the file: nothing is lost, nothing
 *   is inserted twice.
 * - Several processes may share one spool directory (the web processes of one machine with one
 *   DATA_DIR): names are unique per process, and a transaction-level advisory lock taken by each
 *   batch lets one of them drain at a time (safe behind a transaction-mode PgBouncer).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LOCKS, tryLockTransaction, type AdvisoryLock } from '../db/advisory-lock.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import { isAlive } from '../db/embedded-postgres.ts';
import { isDatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { insertUpload, type ReceivedUpload } from './bundle.repository.ts';
import { decodeSpoolFile, encodeSpoolFile, SpoolFileError } from './spool-file.ts';

export interface SpoolStats {
  /** uploads waiting in the spool */
  files: number;
  bytes: number;
}

/** The spool is over SPOOL_MAX_BYTES: the upload is refused (and the client keeps it). */
export class SpoolFullError extends Error {
  override name = 'SpoolFullError';
}

const SUFFIX = '.upload';
const INCOMING = '.incoming';
/** Files that cannot be read back (damaged on disk): kept here for an operator, never deleted. */
const DAMAGED = 'damaged';
/** Uploads per drain transaction. */
const DRAIN_BATCH = 50;
const DRAIN_INTERVAL_MS = 2_000;

let sequence = 0;

/** Fsyncs a directory, so that a rename or a removal in it is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The uploads waiting in `dir`, oldest first, with their sizes. */
export async function spooledFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SUFFIX)).sort();
  const files: { name: string; bytes: number }[] = [];
  for (const name of names) {
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined); // drained meanwhile
    if (stat) files.push({ name, bytes: stat.size });
  }
  return files;
}

/** How many uploads wait in the spool at `dir` (for `dcs status`, /metrics, the system-health page). */
export async function spoolStats(dir: string): Promise<SpoolStats> {
  const files = await spooledFiles(dir);
  return { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

export class Spool {
  /** the spool's size as last counted, plus what this process wrote since */
  private knownBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<number> | undefined;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
    /** ERRORED_UPLOADS_MAX_BYTES: undecodable uploads beyond it are not kept when drained either */
    private readonly erroredMaxBytes = Number.MAX_SAFE_INTEGER,
  ) {}

  /** Creates the directories, clears what crashed writers left half-written, counts what waits. */
  async open(): Promise<SpoolStats> {
    await fs.mkdir(path.join(this.dir, INCOMING), { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(path.join(this.dir, INCOMING))) {
      // `<time>-<pid>-…`: a writer that died before the rename never answered 201, so its
      // client still holds the upload
      const pid = Number(name.split('-')[1]);
      if (!isAlive(pid)) await fs.rm(path.join(this.dir, INCOMING, name), { force: true });
    }
    const stats = await spoolStats(this.dir);
    this.knownBytes = stats.bytes;
    if (stats.files > 0) this.log.warn(`${stats.files} uploads (${stats.bytes} bytes) wait in the spool ${this.dir}; they are inserted as soon as the database takes them`);
    return stats;
  }

  /**
   * Keeps `upload` durably. Throws SpoolFullError over SPOOL_MAX_BYTES, or the file system's
   * error (ENOSPC: disk full); then nothing is kept.
   */
  async write(upload: ReceivedUpload): Promise<void> {
    const bytes = encodeSpoolFile(upload);
    if (this.knownBytes + bytes.length > this.maxBytes) {
      throw new SpoolFullError(`the spool holds ${this.knownBytes} bytes; SPOOL_MAX_BYTES is ${this.maxBytes}`);
    }
    sequence += 1;
    const name = `${String(upload.receivedAt.getTime()).padStart(15, '0')}-${process.pid}-${String(sequence).padStart(10, '0')}-${randomBytes(4).toString('hex')}${SUFFIX}`;
    const incoming = path.join(this.dir, INCOMING, name);
    try {
      const handle = await fs.open(incoming, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(incoming, path.join(this.dir, name));
      await syncDirectory(this.dir);
    } catch (error) {
      await fs.rm(incoming, { force: true }).catch(() => undefined);
      throw error;
    }
    this.knownBytes += bytes.length;
  }

  /** Drains every DRAIN_INTERVAL_MS (and at once); `onDrained` after uploads reach `bundles`. */
  startDraining(pool: Pool, onDrained: (count: number) => void): void {
    const tick = () => {
      this.drain(pool).then(
        (count) => count > 0 && onDrained(count),
        // while the database is down, every tick fails: that is expected, not news
        (error) => (isDatabaseUnavailable(error) ? this.log.debug({ err: error }, 'spool: the database is still unavailable') : this.log.warn({ err: error }, 'draining the upload spool failed; retrying')),
      );
    };
    tick();
    this.timer = setInterval(tick, DRAIN_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and waits for a drain in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.draining?.catch(() => undefined);
  }

  /** One drain pass (never two at once in this process). Returns the uploads inserted. */
  drain(pool: Pool): Promise<number> {
    this.draining ??= this.drainPass(pool).finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainPass(pool: Pool): Promise<number> {
    const files = await spooledFiles(this.dir);
    this.knownBytes = files.reduce((sum, f) => sum + f.bytes, 0);
    if (files.length === 0) return 0;
    const lock = LOCKS.spoolDrain(`${os.hostname()} ${await fs.realpath(this.dir)}`);
    let inserted = 0;
    try {
      for (let start = 0; start < files.length; start += DRAIN_BATCH) {
        const batch = await this.drainBatch(pool, lock, files.slice(start, start + DRAIN_BATCH).map((f) => f.name));
        if (batch === 'busy') break; // another process drains this spool
        inserted += batch;
      }
    } finally {
      if (inserted > 0) this.log.info(`inserted ${inserted} spooled uploads into bundles`);
    }
    return inserted;
  }

  /**
   * One batch in one transaction, under a transaction-level lock (so a web process can sit
   * behind a transaction-mode PgBouncer): 'busy' when another process holds it. Between this
   * commit and the files' removal another process may take the lock and read them again; their
   * receipts are stored already, so it inserts nothing and removes them.
   */
  private async drainBatch(pool: Pool, lock: AdvisoryLock, names: string[]): Promise<number | 'busy'> {
    const drained = await withTransaction(pool, async (tx) => {
      if (!(await tryLockTransaction(tx, lock))) return 'busy';
      const uploads = await this.readFiles(names);
      let inserted = 0;
      for (const { upload } of uploads) {
        if (typeof (await insertUpload(tx, upload, this.erroredMaxBytes)) === 'number') inserted += 1;
      }
      return { uploads, inserted };
    });
    if (drained === 'busy') return drained;
    const { uploads, inserted } = drained;
    if (uploads.length === 0) return 0;
    for (const { name } of uploads) await fs.rm(path.join(this.dir, name), { force: true });
    await syncDirectory(this.dir);
    return inserted;
  }

  /** The spool files still there, decoded; damaged ones are moved aside. */
  private async readFiles(names: string[]): Promise<{ name: string; upload: ReceivedUpload }[]> {
    const uploads: { name: string; upload: ReceivedUpload }[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const bytes = await fs.readFile(file).catch(() => undefined);
      if (!bytes) continue; // drained by a process that held the lock before us
      try {
        uploads.push({ name, upload: decodeSpoolFile(bytes) });
      } catch (error) {
        if (!(error instanceof SpoolFileError)) throw error;
        await fs.mkdir(path.join(this.dir, DAMAGED), { recursive: true });
        await fs.rename(file, path.join(this.dir, DAMAGED, name));
        this.log.error(`spool file ${name} cannot be read (${error.message}); moved to ${path.join(this.dir, DAMAGED)}`);
      }
    }
    return uploads;
  }
}
