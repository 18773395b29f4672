/** Runs the `dcs` command as users do (`node bin/dcs.js ...`) in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DcsResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `dcs <args>` on `databaseUrl`. `env` values of undefined remove the variable; `input` is written
 * to standard input (otherwise stdin is empty, not a terminal).
 */
export function runDcs(args: string[], options: { databaseUrl: string; env?: Record<string, string | undefined>; input?: string }): Promise<DcsResult> {
  const env = options.env ?? {};
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: options.databaseUrl, ...env };
  for (const name of ['LOG_LEVEL', 'PORT', 'DB_POOL_SIZE', 'DATA_DIR', 'PDK_SERVER_KEY', 'PDK_CLIENT_KEY']) {
    if (!(name in env)) delete childEnv[name];
  }
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/dcs.js'), ...args], { cwd: ROOT, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000); // a hung command fails, never hangs the suite
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `dcs` process (start, serve, worker). */
export interface DcsProcess {
  child: ChildProcess;
  /** stdout and stderr, interleaved as received */
  output(): string;
  /** resolves with the exit code once the process has exited */
  exited: Promise<number | null>;
  /** Waits until the output matches `pattern` and returns the match; throws if the process exits first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `dcs <args>` on `databaseUrl` and leaves it running (LOG_LEVEL info, PORT 0 on 127.0.0.1). */
export function spawnDcs(args: string[], options: { databaseUrl: string; env?: Record<string, string> }): DcsProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: options.databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env };
  for (const name of ['DB_POOL_SIZE', 'DATA_DIR', 'PDK_SERVER_KEY', 'PDK_CLIENT_KEY']) {
    if (!options.env || !(name in options.env)) delete env[name];
  }
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/dcs.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (data: Buffer) => {
    output += data.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    resolve(code);
    for (const listener of listeners) listener();
  }));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) finish(() => resolve(match));
          else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`dcs ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`dcs ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
