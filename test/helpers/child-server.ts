/**
 * `dcs start` in a child process, as users run it, for tests that must see the whole process: its
 * memory, its crashes, kill -9. Children and temporary directories are cleaned up after each test
 * of the file that uses `useChildServers()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ROOT } from './dcs.ts';

export interface ChildServer {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
}

export interface ChildServers {
  /**
   * `dcs start` (web and worker, no scheduled jobs) with `env`, and `nodeArgs` for node; resolves
   * once it listens. `command` `serve` or `worker` starts that part alone; a worker has no
   * `baseUrl` and resolves once its processing runs.
   */
  start(env: Record<string, string>, nodeArgs?: string[], command?: 'start' | 'serve' | 'worker'): Promise<ChildServer>;
  /** A temporary directory, removed after the test. */
  tempDir(): string;
}

export function useChildServers(): ChildServers {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcs-child-'));
      dirs.push(dir);
      return dir;
    },
    async start(env, nodeArgs = [], command = 'start') {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', JOBS_DISABLED: 'true', LOG_LEVEL: 'info', UPLOAD_DB_TIMEOUT_MS: '1000', ...env };
      if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
      const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/dcs.js'), command], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      const started = command === 'worker' ? /processing worker running/ : /listening on http:\/\/[^:]+:(\d+)/;
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 120_000);
        const onData = (data: Buffer) => {
          output += data.toString();
          const match = started.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1] ?? 0));
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
      });
      return { child, baseUrl: port ? `http://127.0.0.1:${port}` : '', output: () => output };
    },
  };
}
