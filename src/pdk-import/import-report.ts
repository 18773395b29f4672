/**
 * What an import read and what it could not import, and the comparison at its end: points per
 * source and data type on the original's side and stored here, and every point that could not be
 * imported with the reason (never skipped silently). Both imports (database and backup files) fill one.
 */
import type { Pool } from '../db/database.ts';

export interface ImportReport {
  /** Points read from the original, per source and generator id (data type). */
  readonly original: Map<string, Map<string, number>>;
  /** Points that could not be imported: where they came from and why. */
  readonly failures: { key: string; reason: string }[];
  /** Other findings for the reader (for example: data types a backup file cannot contain). */
  readonly notes: string[];
  countOriginal(source: string, generatorId: string, n?: number): void;
  fail(key: string, reason: string): void;
}

export function createImportReport(): ImportReport {
  const original = new Map<string, Map<string, number>>();
  const failures: { key: string; reason: string }[] = [];
  return {
    original,
    failures,
    notes: [],
    countOriginal(source, generatorId, n = 1) {
      let types = original.get(source);
      if (!types) original.set(source, (types = new Map()));
      types.set(generatorId, (types.get(generatorId) ?? 0) + n);
    },
    fail(key, reason) {
      failures.push({ key, reason });
    },
  };
}

export interface ComparedCount {
  source: string;
  generatorId: string;
  original: number;
  stored: number;
}

/** Per source and data type of the report: the original's count and ours (after processing). */
export async function compareWithStored(pool: Pool, report: ImportReport): Promise<ComparedCount[]> {
  const sources = [...report.original.keys()];
  const { rows } = await pool.query<{ source: string; generator_id: string; n: string }>(
    'SELECT source, generator_id, count(*) AS n FROM data_points WHERE source = ANY($1::text[]) GROUP BY 1, 2',
    [sources],
  );
  const stored = new Map(rows.map((r) => [`${r.source}\u0000${r.generator_id}`, Number(r.n)]));
  const keys = new Set([...report.original].flatMap(([source, types]) => [...types.keys()].map((t) => `${source}\u0000${t}`)));
  for (const key of stored.keys()) keys.add(key);
  return [...keys].sort().map((key) => {
    const [source, generatorId] = key.split('\u0000');
    return { source, generatorId, original: report.original.get(source)?.get(generatorId) ?? 0, stored: stored.get(key) ?? 0 };
  });
}

/**
 * The report as text for the terminal: the counts (a point the original held twice is stored here
 * once, so `stored` may be lower; higher means points uploaded here since the move), the notes,
 * and every failure.
 */
export function formatReport(report: ImportReport, counts: ComparedCount[]): string {
  const lines = ['source\tdata type\toriginal\tstored here\tdifference'];
  for (const c of counts) lines.push(`${c.source}\t${c.generatorId}\t${c.original}\t${c.stored}\t${c.stored - c.original}`);
  const total = counts.reduce((sum, c) => ({ original: sum.original + c.original, stored: sum.stored + c.stored }), { original: 0, stored: 0 });
  lines.push(`total\t\t${total.original}\t${total.stored}\t${total.stored - total.original}`);
  for (const note of report.notes) lines.push(`Note: ${note}`);
  lines.push(report.failures.length === 0 ? 'Every point read was imported.' : `${report.failures.length} points could not be imported:`);
  for (const f of report.failures) lines.push(`  ${f.key}: ${f.reason}`);
  return lines.join('\n');
}
