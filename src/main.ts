/**
 * Composition root: config -> database (migrated, catalog synced) -> web and/or worker; signals
 * and orderly shutdown. The CLI (src/cli) calls these; nothing here runs at import time.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, startHttpServer, stopHttpServer } from './app.ts';
import { createBundleNotifier } from './ingest/bundle-notifier.ts';
import { Spool } from './ingest/spool.ts';
import { createUploadStore } from './ingest/store-upload.ts';
import type { FramingServer } from './ingest/create-method.ts';
import type { Config } from './config.ts';
import { createPool, openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import type { Logger } from './log.ts';
import { syncDataTypes } from './processing/data-types.ts';
import { startWorker, type Worker } from './processing/worker.ts';
import { startWorkerThread } from './processing/worker-thread.ts';
import { countUsers } from './dashboard/auth/users.repository.ts';
import { JOBS } from './jobs/job-list.ts';
import { startScheduler, type Scheduler } from './jobs/scheduler.ts';

/**
 * Migrates on a connection of its own to DATABASE_DIRECT_URL when set: the migrations hold a
 * session lock, which a transaction-mode PgBouncer in front of DATABASE_URL cannot keep.
 */
async function migrateDirectly(db: Database, log: Logger): Promise<string[]> {
  const say = (message: string) => log.info(message);
  if (db.directUrl === db.url) return migrate(db.pool, say);
  const direct = createPool(db.directUrl, 1, log);
  try {
    return await migrate(direct, say);
  } finally {
    await direct.end();
  }
}

/** Opens the database and brings its schema and catalog up to date. */
export async function openRuntime(config: Config, log: Logger): Promise<Database> {
  const db = await openDatabase(config, log);
  try {
    const applied = await migrateDirectly(db, log);
    if (applied.length > 0) log.info({ migrations: applied }, 'applied migrations');
    await syncDataTypes(db.pool);
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

export interface Running {
  readonly db: Database;
  /** The port the HTTP server listens on (useful with PORT=0). */
  readonly port: number | undefined;
  stop(): Promise<void>;
}

/** Starts the web server, the worker, or both, on one database. */
export async function startServer(config: Config, log: Logger, parts: { web: boolean; worker: boolean }): Promise<Running> {
  const db = await openRuntime(config, log);
  let app: FastifyInstance | undefined;
  let front: FramingServer | undefined;
  let worker: Worker | undefined;
  let scheduler: Scheduler | undefined;
  let spool: Spool | undefined;
  let port: number | undefined;
  try {
    if (parts.worker && parts.web) {
      worker = startWorkerThread(config, db.url, log);
    } else if (parts.worker) {
      worker = startWorker({ pool: db.pool, config, log, listenUrl: db.directUrl, concurrency: config.workerConcurrency });
    }
    if (parts.web) {
      const running = worker;
      const notifier = createBundleNotifier(db.pool, () => running?.wake());
      spool = new Spool(config.spoolDir, config.spoolMaxBytes, log, config.erroredUploadsMaxBytes);
      await spool.open();
      spool.startDraining(db.pool, () => notifier.bundleStored());
      const uploads = createUploadStore(db.pool, spool, { connectTimeoutMs: config.uploadDbTimeoutMs, erroredMaxBytes: config.erroredUploadsMaxBytes }, log);
      app = await buildApp({ pool: db.pool, readPool: db.readPool, config, log, notifier, uploads });
      front = await startHttpServer(app, config.port, config.host);
      const address = front.server.address();
      port = address && typeof address === 'object' ? address.port : undefined;
      // Said as soon as the server listens: the schedule's start may take a while (several
      // workers set it up one after another).
      log.info(`webmunk-dcs listening on http://${config.host}:${port} (upload URL: /data/add-bundle.json)`);
      // Only a hint: a database gone again since the migrations must not fail the start.
      if ((await countUsers(db.pool).catch(() => undefined)) === 0) {
        const hint = 'No dashboard user yet. Create the first one with: npx dcs users create NAME --admin (it asks for the password), then log in at /data/login';
        log.warn(hint);
        if (process.stderr.isTTY) console.error(hint);
      }
    }
    // The scheduled jobs run in every worker process; the schedule runs each job once per tick.
    if (parts.worker && !config.jobsDisabled) scheduler = await startScheduler({ pool: db.pool, readPool: db.readPool, config, log }, JOBS);
  } catch (error) {
    if (app && front) await stopHttpServer(app, front).catch(() => undefined);
    await spool?.stop();
    await scheduler?.stop().catch(() => undefined);
    await worker?.stop();
    await db.close();
    throw error;
  }
  if (worker) log.info('processing worker running');
  let stopping: Promise<void> | undefined;
  return {
    db,
    port,
    stop() {
      stopping ??= (async () => {
        if (app && front) await stopHttpServer(app, front);
        await spool?.stop(); // after the last upload: what it spooled stays for the next start
        await scheduler?.stop();
        await worker?.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}

/** Stops `running` on SIGINT/SIGTERM, then exits. */
export function stopOnSignals(running: Running, log: Logger): void {
  const onSignal = (signal: string) => {
    log.info(`${signal} received; shutting down`);
    running.stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
}
