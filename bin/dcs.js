#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// The `dcs` command. `npm install` compiles src/ to dist/ (scripts/build.js, the `prepare`
// script), and dist/ runs while it matches src/; after an edit to src/ the TypeScript runs as it
// is, through tsx, until `npm run build` (tsx costs each process ~40 MB: scripts/build.js).
import v8 from 'node:v8';
import { isCurrentBuild } from '../scripts/build.js';

// A small young generation (4 MB semi-spaces): uploads make short-lived garbage in bursts, and V8
// otherwise grows new space, and so resident memory, far past what the server needs (BENCHMARKS.md).
// npm start and the shebang pass the flag; when started some other way, set it now.
// They also set MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates (the processing
// thread, the thread pool compressing uploads, V8's helpers) its own heap arena, and memory freed in
// one arena cannot serve another: peak RSS 310-330 MB instead of 285-300 MB in the benchmark.
// (glibc reads it at process start, so it cannot be set from here.)
if (!process.execArgv.some((arg) => arg.startsWith('--max-semi-space-size'))) {
  v8.setFlagsFromString('--max-semi-space-size=4');
}
// `dcs status | head` closes our stdout early; that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
let cli = '../dist/cli/cli.js';
if (!isCurrentBuild()) {
  (await import('tsx/esm/api')).register();
  cli = '../src/cli/cli.ts';
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
