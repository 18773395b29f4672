// `npm run build` (and `npm install`, through the `prepare` script): compiles src/ to plain
// JavaScript in dist/, file by file, with the same layout, so that `dcs` runs without a TypeScript
// loader. Run through tsx, every process carries a module-hooks thread with its own V8 heap, and
// so does each worker thread it starts: `dcs start` idles at ~160 MB through tsx against ~122 MB
// compiled (BENCHMARKS.md, issue 9). bin/dcs.js runs dist/ only while it matches src/ exactly
// (sourceKey below), and src/ through tsx otherwise, so an edit to src/ takes effect at once.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
/** Where bin/dcs.js looks. At the same depth as src/, so `../../package.json` reads the same. */
export const DIST = path.join(ROOT, 'dist');
const KEY_FILE = '.source-key';

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/**
 * A digest of every file under src/, names and contents: what a build was made from. Contents,
 * not modification times, so that a copied or re-checked-out tree still matches its build
 * (~1 MB read: about 13 ms at each start).
 */
export function sourceKey() {
  const hash = createHash('sha256');
  for (const file of filesUnder(SRC)) {
    const content = readFileSync(file);
    hash.update(`${path.relative(SRC, file)}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/** True if `dir` holds a complete build of src/ as it is now. */
export function isCurrentBuild(dir = DIST) {
  try {
    return readFileSync(path.join(dir, KEY_FILE), 'utf8') === sourceKey();
  } catch {
    return false;
  }
}

/**
 * Compiles src/ into `outDir` (replaced whole; built beside it first, so a process starting
 * meanwhile sees the old build or the new one, never half of one). Every module stays its own
 * file: relative imports are kept, `.ts` becoming `.js`; packages stay imports of node_modules.
 * Files that are not TypeScript (migrations, the dashboard's static files) are copied.
 */
export async function build(outDir = DIST) {
  const { build: esbuild } = await import('esbuild');
  const key = sourceKey();
  const files = filesUnder(SRC);
  const staging = `${outDir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  await esbuild({
    entryPoints: files.filter((file) => file.endsWith('.ts')),
    outdir: staging,
    outbase: SRC,
    bundle: true, // only to see each import: every one is left to Node (below)
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    plugins: [{
      name: 'one-file-per-module',
      setup(b) {
        b.onResolve({ filter: /^\.\.?\// }, (args) => ({ path: args.path.replace(/\.ts$/, '.js'), external: true }));
      },
    }],
  });
  for (const file of files.filter((f) => !f.endsWith('.ts'))) {
    const target = path.join(staging, path.relative(SRC, file));
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(file, target);
  }
  writeFileSync(path.join(staging, KEY_FILE), key);
  const old = `${outDir}.${process.pid}.old`;
  if (existsSync(outDir)) renameSync(outDir, old);
  try {
    renameSync(staging, outDir);
  } catch (error) {
    // Another build, started at the same time, put its own in place first: the same sources.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  await build(process.argv[2] ? path.resolve(process.argv[2]) : DIST);
  console.log(`webmunk-dcs: compiled src/ to ${path.relative(process.cwd(), process.argv[2] ?? DIST) || '.'} in ${Date.now() - started} ms`);
}
