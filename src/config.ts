/**
 * The only reader of the environment. `loadConfig(env)` validates every variable once, reports
 * every problem together, and returns a frozen object. Each variable is documented here, where it
 * is read, and in README.md's configuration table.
 */
import path from 'node:path';
import { decodeKey } from './crypto/box.ts';

export interface Config {
  /** PORT: TCP port of the HTTP server. Default 8000. */
  readonly port: number;
  /** HOST: address to bind. Default 0.0.0.0 (all interfaces). */
  readonly host: string;
  /** DATABASE_URL: any PostgreSQL >= 15. Unset: the embedded PostgreSQL under DATA_DIR/postgres. */
  readonly databaseUrl: string | undefined;
  /** DATA_DIR: where the embedded database and local files live. Default ./data. */
  readonly dataDir: string;
  /** PDK_SERVER_KEY: base64 of the server's 32-byte NaCl secret key (the original's setting). */
  readonly serverSecretKey: Uint8Array | undefined;
  /** PDK_CLIENT_KEY: base64 of the clients' shared 32-byte NaCl public key. */
  readonly clientPublicKey: Uint8Array | undefined;
  /** MAX_BODY_BYTES: largest accepted upload body; larger gets 413. Default 100 MB. */
  readonly maxBodyBytes: number;
  /** MAX_INFLATED_BYTES: largest decompressed bundle; larger is stored errored. Default 512 MB. */
  readonly maxInflatedBytes: number;
  /** UPLOADS_DISABLED: true = answer uploads as the original's "disabled" mode and store nothing. */
  readonly uploadsDisabled: boolean;
  /** UPLOAD_TOKENS: comma-separated bearer tokens; when set, a PUT with any other token gets 401. */
  readonly uploadTokens: readonly string[];
  /** PROCESS_BATCH_BUNDLES: bundles claimed per processing transaction. Default 200. */
  readonly processBatchBundles: number;
  /** PROCESS_MAX_ATTEMPTS: failed processing attempts before a bundle is marked errored. Default 3. */
  readonly processMaxAttempts: number;
  /** WORKER_CONCURRENCY: processing loops per worker process. Default 2. */
  readonly workerConcurrency: number;
  /** DB_POOL_SIZE: connections per process. Default 20 (uploads wait on commits; more in flight share each WAL flush). */
  readonly dbPoolSize: number;
  /** LOG_LEVEL: fatal, error, warn, info, debug, trace or silent. Default info. */
  readonly logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string) => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return false;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return false;
  };
  const key = (name: string) => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const decoded = decodeKey(raw);
    if (!decoded) problems.push(`${name} must be the base64 of a 32-byte key`);
    return decoded;
  };

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const logLevel = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const config: Config = {
    port: int('PORT', 8000, 0, 65535),
    host: text('HOST') ?? '0.0.0.0',
    databaseUrl,
    dataDir: path.resolve(text('DATA_DIR') ?? 'data'),
    serverSecretKey: key('PDK_SERVER_KEY'),
    clientPublicKey: key('PDK_CLIENT_KEY'),
    maxBodyBytes: int('MAX_BODY_BYTES', 100 * 1024 * 1024, 1024),
    maxInflatedBytes: int('MAX_INFLATED_BYTES', 512 * 1024 * 1024, 1024, 2 ** 31 - 1),
    uploadsDisabled: bool('UPLOADS_DISABLED'),
    uploadTokens: (text('UPLOAD_TOKENS') ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    processBatchBundles: int('PROCESS_BATCH_BUNDLES', 200, 1, 10000),
    processMaxAttempts: int('PROCESS_MAX_ATTEMPTS', 3, 1, 100),
    workerConcurrency: int('WORKER_CONCURRENCY', 2, 1, 64),
    dbPoolSize: int('DB_POOL_SIZE', 20, 2, 1000),
    logLevel,
  };
  if (Boolean(config.serverSecretKey) !== Boolean(config.clientPublicKey)) {
    problems.push('PDK_SERVER_KEY and PDK_CLIENT_KEY must be set together (encrypted uploads need both)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
