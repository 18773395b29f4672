/** The real server (HTTP front, Fastify, PostgreSQL) on a free port, for one test file. */
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
  const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DB_POOL_SIZE: '4', ...env });
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
    },
  };
}
