/** Runs the `dcs` command as users do (`node bin/dcs.js ...`) in a child process, to completion. */
import { spawn } from 'node:child_process';
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
