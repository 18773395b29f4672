/**
 * The house rules of docs/architecture.md that keep capabilities apart, checked on the imports of
 * every file under src/ (static, dynamic, type-only and re-exports): each part of src/ imports
 * only what the allow-list below gives it, the allow-list is the table in docs/architecture.md,
 * and no module imports itself through others. A rule broken here is a design change to discuss,
 * not a quick fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../src/db/channels.ts';
import { ROOT } from './helpers/dcs.ts';

const SRC = path.join(ROOT, 'src');

/**
 * Part of src/ → what of ours it may import, besides its own files. A part is a folder (`ingest/`)
 * or a file at the root (`config.ts`). An entry is a part, one file of a folder
 * (`ingest/spool.ts`), or a folder's files by name pattern (`amazon/*.job.ts`); `everything` for
 * the composition (cli/, app.ts, main.ts).
 */
const ALLOWED: Record<string, readonly string[]> = {
  'config.ts': ['crypto/'],
  'errors.ts': [],
  'log.ts': [],
  'threads.ts': ['log.ts'],
  'concurrency-gate.ts': [],
  'html.ts': [],
  'object-store.ts': [],
  'job-contract.ts': ['config.ts'],
  'db/': ['config.ts', 'log.ts'],
  'crypto/': [],
  'payload/': ['crypto/'],
  'ingest/': ['db/', 'crypto/', 'payload/', 'config.ts', 'errors.ts', 'log.ts'],
  'processing/': ['db/', 'crypto/', 'payload/', 'config.ts', 'errors.ts', 'log.ts', 'threads.ts', 'amazon/harvested-types.ts'],
  'monitoring/': ['db/', 'mail/', 'crypto/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'jobs/job-list.ts', 'ingest/spool.ts', 'backup/backup-runs.repository.ts', 'backup/backup-status.ts', 'data-quality/exclusion-sql.ts'],
  'exports/': ['db/', 'crypto/', 'mail/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'app-config/served.repository.ts', 'data-quality/exclusion-rules.repository.ts', 'data-quality/exclusion-sql.ts', 'archive/archive.repository.ts'],
  'amazon/': ['db/', 'crypto/', 'config.ts', 'errors.ts', 'log.ts', 'threads.ts', 'job-contract.ts', 'data-quality/exclusion-sql.ts'],
  'api/': ['db/', 'crypto/', 'config.ts', 'errors.ts', 'log.ts', 'concurrency-gate.ts', 'dashboard/auth/staff-login.ts', 'dashboard/auth/login-gate.ts', 'data-quality/exclusion-rules.repository.ts', 'data-quality/exclusion-sql.ts'],
  'app-config/': ['db/', 'config.ts', 'errors.ts'],
  'donations/': ['db/', 'crypto/', 'payload/', 'config.ts', 'errors.ts', 'log.ts', 'html.ts', 'job-contract.ts'],
  'data-quality/': ['db/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'html.ts', 'monitoring/automated-browser.ts'],
  'backup/': ['db/', 'crypto/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'object-store.ts'],
  'archive/': ['db/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'object-store.ts', 'exports/parquet-writer.ts'],
  'pdk-import/': ['db/', 'crypto/', 'payload/', 'config.ts', 'errors.ts', 'log.ts', 'amazon/keepa-product.ts', 'amazon/keepa-client.ts'],
  'mail/': ['config.ts'],
  'jobs/': ['db/', 'config.ts', 'errors.ts', 'log.ts', 'job-contract.ts', 'amazon/*.job.ts', 'archive/*.job.ts', 'backup/*.job.ts', 'data-quality/*.job.ts', 'donations/*.job.ts', 'exports/*.job.ts', 'monitoring/*.job.ts'],
  'dashboard/': [
    'db/', 'config.ts', 'concurrency-gate.ts', 'errors.ts', 'log.ts', 'html.ts', 'job-contract.ts', 'jobs/job-list.ts', 'jobs/job-runs.repository.ts',
    'monitoring/automated-browser.ts', 'monitoring/alerts.repository.ts', 'monitoring/status.ts', 'monitoring/default-partition.ts', 'processing/reprocess.ts', 'ingest/form.ts',
    'exports/export-catalog.repository.ts', 'exports/report-jobs.repository.ts', 'exports/request-export.ts', 'exports/rerun-export.ts', 'exports/asin-details.ts', 'exports/columns/index.ts',
    'amazon/support.routes.ts', 'amazon/keepa-product.ts', 'api/tokens.repository.ts', 'api/api-tokens.ts',
    'app-config/*.repository.ts', 'app-config/configuration.ts', 'app-config/save-configuration.ts', 'app-config/transfer.ts',
    'backup/backup-runs.repository.ts', 'backup/backup-status.ts', 'donations/importer-list.ts', 'data-quality/flags-rules.ts', 'data-quality/exclusion-rules.repository.ts', 'data-quality/exclusion-sql.ts', 'data-quality/erasure.ts',
  ],
  'cli/': ['everything'],
  'app.ts': ['everything'],
  'main.ts': ['everything'],
};

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Every TypeScript file under src/, as a path relative to src/ ('ingest/spool.ts'). */
const FILES = filesUnder(SRC).map((file) => path.relative(SRC, file).split(path.sep).join('/'));

/** The files of ours that `file` imports, relative to src/ (imports, `import type`, `import()`, `export … from`). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.[^']+)'/g)].map((m) => m[1]);
  return specifiers.map((s) => path.posix.relative('.', path.posix.join(path.posix.dirname(file), s)));
}

const partOf = (file: string) => (file.includes('/') ? `${file.split('/')[0]}/` : file);

function allows(entry: string, target: string): boolean {
  if (entry === 'everything' || entry === target) return true;
  if (entry.endsWith('/')) return target.startsWith(entry);
  if (entry.includes('*')) {
    const [dir, pattern] = [path.posix.dirname(entry), path.posix.basename(entry)];
    const name = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace('*', '[^/]*')}$`);
    return path.posix.dirname(target) === dir && name.test(path.posix.basename(target));
  }
  return false;
}

describe('capability boundaries', () => {
  it('every part of src/ has its entry in the allow-list', () => {
    expect([...new Set(FILES.map(partOf))].sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  for (const [part, allowed] of Object.entries(ALLOWED)) {
    it(`${part} imports ${allowed.length ? allowed.join(', ') : 'nothing of ours'}`, () => {
      const files = FILES.filter((file) => partOf(file) === part);
      expect(files.length).toBeGreaterThan(0);
      const broken = files.flatMap((file) => importsOf(file)
        .filter((target) => partOf(target) !== part && !allowed.some((entry) => allows(entry, target)))
        .map((target) => `${file} → ${target}`));
      expect(broken).toEqual([]);
    });
  }

  it('docs/architecture.md lists the same parts and imports', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Capabilities'), doc.indexOf('\nRules of the house'));
    const table: Record<string, string[]> = {};
    for (const row of section.split('\n').filter((line) => line.startsWith('| `'))) {
      const [parts, , mayImport] = row.slice(1, -1).split(' | ');
      const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const allowed = mayImport.trim() === 'everything' ? ['everything'] : mayImport.trim() === 'nothing of ours' ? [] : names(mayImport);
      for (const part of names(parts)) table[part] = allowed;
    }
    const sorted = (record: Record<string, readonly string[]>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, [...v].sort()]));
    expect(sorted(table)).toEqual(sorted(ALLOWED));
  });
});

describe('module imports', () => {
  it('form no cycle', () => {
    const graph = new Map(FILES.map((file) => [file, importsOf(file).filter((target) => FILES.includes(target))]));
    // Depth-first search; a module met again while it is still on the path closes a cycle.
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file)!) {
        const path = [...trail, file];
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next, path);
      }
      state.set(file, 'done');
    };
    for (const file of FILES) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });
});

/** Code lines (not comments) of src/ files matching `pattern`, outside `allowed` files: "file:line: text". */
function linesMatching(pattern: RegExp, allowed: readonly string[]): string[] {
  return FILES.filter((file) => !allowed.includes(file)).flatMap((file) => fs.readFileSync(path.join(SRC, file), 'utf8').split('\n')
    .flatMap((line, i) => (!/^\s*(\*|\/\/|\/\*)/.test(line) && pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])));
}

describe('the db/ toolkit is the one way', () => {
  it('transactions begin and end in db/transaction.ts only', () => {
    // Two exceptions, each a transaction that spans a stream rather than a callback: the ASIN
    // harvest's segments (to be replaced by an outbox, issue 22 §2), and the read-only snapshot
    // an import holds on the ORIGINAL server's database (not ours) for as long as it reads.
    const allowed = ['db/transaction.ts', 'amazon/harvest.ts', 'pdk-import/original-database.ts'];
    expect(linesMatching(/['`;]\s*(BEGIN|COMMIT|ROLLBACK)\b(?! TO SAVEPOINT)/, allowed)).toEqual([]);
  });

  it('advisory locks are taken in db/advisory-lock.ts only (one key scheme)', () => {
    expect(linesMatching(/pg_(try_)?advisory/, ['db/advisory-lock.ts'])).toEqual([]);
  });

  it('channel names live in db/channels.ts only', () => {
    const names = Object.values(CHANNELS).join('|');
    expect(linesMatching(new RegExp(`['"\`](${names})['"\`]|pg_notify|['\`]\\s*(LISTEN|NOTIFY)\\b`), ['db/channels.ts'])).toEqual([]);
  });
});
