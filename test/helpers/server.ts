/** The real server (HTTP front, Fastify, PostgreSQL) on a free port, for one test file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type Running } from '../../src/main.ts';
import { processUntilEmpty, type BatchResult } from '../../src/processing/process-bundles.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestServer {
  baseUrl: string;
  port: number;
  config: Config;
  db: TestDatabase;
  running: Running;
  /** Processes every pending bundle now (tests run without the background worker). */
  process(): Promise<BatchResult>;
  stop(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, options: { worker?: boolean; db?: TestDatabase } = {}): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase());
  // a DATA_DIR of its own (the spool, exports): test files run in parallel
  const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-test-'));
  const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DB_POOL_SIZE: '4', DATA_DIR: dataDir, ...env });
  const log = createLogger(config.logLevel);
  const running = await startServer(config, log, { web: true, worker: options.worker ?? false });
  const port = running.port!;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    config,
    db,
    running,
    process: () => processUntilEmpty({ pool: running.db.pool, config, log }),
    async stop() {
      await running.stop();
      if (!options.db) await db.drop();
      if (!env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The usual setup of a describe block: a server started before its tests and stopped after.
 * Returns a stand-in that reads through to the running server.
 */
export function useTestServer(env: Record<string, string> = {}, options: { worker?: boolean } = {}): TestServer {
  let current: TestServer | undefined;
  beforeAll(async () => {
    current = await startTestServer(env, options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (!current) throw new Error('the test server is not started yet (use it inside a test or hook)');
      return Reflect.get(current, key);
    },
  });
}
