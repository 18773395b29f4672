/**
 * The compiled server (scripts/build.js, what `npm install` leaves in dist/ and bin/dcs.js runs):
 * every module is plain JavaScript that Node loads without tsx, and `dcs start` from it takes an
 * upload and processes it on its processing thread (a thread started from a .js module).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { build, isCurrentBuild } from '../../scripts/build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { ROOT } from '../helpers/dcs.ts';
import { testUpload } from '../helpers/uploads.ts';

// Beside src/ (at its depth, as dist/ is), so that paths like ../../package.json read the same.
const OUT = path.join(ROOT, `dist-test-${process.pid}`);
let db: TestDatabase;
let child: ChildProcess | undefined;

beforeAll(async () => {
  await build(OUT);
  db = await createTestDatabase();
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await db?.drop();
  fs.rmSync(OUT, { recursive: true, force: true });
});

describe('the compiled server', () => {
  it('is JavaScript only, importing no TypeScript, with the migrations and static files beside it', () => {
    const files = fs.readdirSync(OUT, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
    const modules = files.filter((f) => f.endsWith('.js'));
    const sources = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    expect(modules.length).toBe(sources.length);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const tsImports = modules.filter((f) => /from\s+["']\.[^"']*\.ts["']/.test(fs.readFileSync(f, 'utf8')));
    expect(tsImports).toEqual([]);
    expect(fs.readdirSync(path.join(OUT, 'db', 'migrations')).filter((f) => f.endsWith('.sql')).length).toBeGreaterThan(5);
    expect(isCurrentBuild(OUT)).toBe(true);
    expect(isCurrentBuild(path.join(OUT, 'db'))).toBe(false);
  });

  it('runs `dcs start`: an upload is stored and processed on the processing thread', async () => {
    const runner = path.join(OUT, 'run.mjs');
    fs.writeFileSync(runner, `const { main } = await import('./cli/cli.js');\nprocess.exitCode = await main(['start']);\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', JOBS_DISABLED: 'true', LOG_LEVEL: 'info' };
    // No --import tsx, no loader: only what dist/ holds and node_modules.
    child = spawn(process.execPath, [runner], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (data: Buffer) => {
        output += data.toString();
        const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
    });
    const upload = testUpload(41, 'gzip-form');
    const reply = await fetch(`http://127.0.0.1:${port}/data/${upload.path}`, upload.init);
    expect(reply.status).toBe(201);
    const deadline = Date.now() + 30_000;
    let points = 0;
    while (points === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      points = (await db.pool.query(`SELECT count(*)::int AS n FROM data_points WHERE properties->>'outage-marker' = '41'`)).rows[0].n;
    }
    expect(points, output).toBe(1);
    expect(output).toContain('processing worker running');
  });
});
