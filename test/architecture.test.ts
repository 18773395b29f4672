/**
 * The house rules of docs/architecture.md that keep capabilities apart, checked on the imports of
 * every file under src/: a rule broken here is a design change to discuss, not a quick fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/dcs.ts';

const SRC = path.join(ROOT, 'src');

/** folder → the folders of ours it must never import */
const FORBIDDEN: Record<string, string[]> = {
  ingest: ['processing', 'exports', 'amazon', 'monitoring', 'dashboard', 'jobs', 'cli'],
  processing: ['ingest', 'exports', 'amazon', 'monitoring', 'dashboard', 'cli'],
  exports: ['processing', 'ingest', 'amazon', 'dashboard', 'cli'],
  amazon: ['processing', 'ingest', 'exports', 'dashboard', 'cli'],
  monitoring: ['processing', 'exports', 'amazon', 'dashboard', 'cli'],
  payload: ['db', 'ingest', 'processing', 'exports', 'amazon', 'monitoring', 'dashboard', 'jobs', 'cli', 'mail'],
  crypto: ['db', 'payload', 'ingest', 'processing', 'exports', 'amazon', 'monitoring', 'dashboard', 'jobs', 'cli', 'mail'],
  db: ['payload', 'ingest', 'processing', 'exports', 'amazon', 'monitoring', 'dashboard', 'jobs', 'cli', 'mail'],
};

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Folders under src/ that `file` imports from (static and dynamic imports). */
function importedFolders(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)].map((m) => m[1]);
  return specifiers.map((s) => path.relative(SRC, path.resolve(path.dirname(file), s)).split(path.sep)[0]);
}

describe('capability boundaries', () => {
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${folder}/ imports none of ${forbidden.join(', ')}`, () => {
      const files = filesUnder(path.join(SRC, folder));
      expect(files.length).toBeGreaterThan(0);
      const broken = files.flatMap((file) => importedFolders(file).filter((f) => forbidden.includes(f)).map((f) => `${path.relative(SRC, file)} → ${f}/`));
      expect(broken).toEqual([]);
    });
  }
});
