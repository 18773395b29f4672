/**
 * What the exclusion rules took out of an export (issue 21 §2): `excluded-points.txt` in the
 * archive lists every excluded point's key (source, data type, created, recorded) with the rules
 * that matched it, so an analyst can audit the exclusions, and README.txt says how many points
 * each rule removed per type and source. The list is streamed from PostgreSQL (a text COPY), in a
 * fixed order, so the same rules and data write the same bytes.
 */
import { to as copyTo } from 'pg-copy-streams';
import type { Pool } from '../db/database.ts';
import type { ResolvedRule } from '../data-quality/exclusion-rules.repository.ts';
import { notExcluded, ruleMatches } from '../data-quality/exclusion-sql.ts';
import type { ArchiveWriter } from './archive.ts';
import { windowConditions, type PointWindow } from './point-query.ts';

export const EXCLUDED_POINTS_FILE = 'excluded-points.txt';

/** rule id → data type → source → points removed */
export type RemovedCounts = Map<number, Map<string, Map<string, number>>>;

function count(removed: RemovedCounts, rule: number, type: string, source: string): void {
  const types = removed.get(rule) ?? removed.set(rule, new Map()).get(rule)!;
  const sources = types.get(type) ?? types.set(type, new Map()).get(type)!;
  sources.set(source, (sources.get(source) ?? 0) + 1);
}

/** COPY's text format escapes a backslash, tab and line break inside a value. */
const unescapeCopy = (text: string) => text.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);

/** Writes the side file (only when rules are in force) and returns what each rule removed. */
export async function writeExcludedPoints(pool: Pool, archive: ArchiveWriter, window: Omit<PointWindow, 'order' | 'keys' | 'textKeys'>, rules: readonly ResolvedRule[]): Promise<RemovedCounts> {
  const removed: RemovedCounts = new Map();
  if (rules.length === 0) return removed;
  const client = await pool.connect();
  try {
    const quote = (text: string) => client.escapeLiteral(text);
    const matched = `array_to_string(ARRAY[${rules.map((rule) => `CASE WHEN ${ruleMatches(rule, quote)} THEN ${rule.id} END`).join(', ')}], ',')`;
    const sql = `SELECT source, generator_id, to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                        to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ${matched}
                 FROM data_points WHERE ${windowConditions(window, quote).join(' AND ')} AND NOT ${notExcluded(rules, quote)}
                 ORDER BY source COLLATE "C", generator_id COLLATE "C", created, id`;
    const entry = archive.entry(EXCLUDED_POINTS_FILE);
    entry.write('source\tgenerator\tcreated\trecorded\trules\n');
    let rest = '';
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      entry.writeBytes(chunk);
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [source, type, , , ids] = line.split('\t');
        for (const id of ids.split(',')) count(removed, Number(id), unescapeCopy(type), unescapeCopy(source));
      }
      if (entry.full) await entry.drained();
    }
    await entry.close();
  } finally {
    client.release();
  }
  return removed;
}

/** README.txt's section: the rules in force, and what each removed. */
export function exclusionsSection(rules: readonly ResolvedRule[], removed: RemovedCounts): string[] {
  const lines = ['Exclusion rules', '---------------', ''];
  if (rules.length === 0) return [...lines, 'No exclusion rule was in force: nothing was left out.', ''];
  lines.push(`The points these rules matched are left out of every file; ${EXCLUDED_POINTS_FILE} lists each one's key (source,`);
  lines.push('generator, created, recorded) and the rules that matched it. Nothing was deleted: removing a rule and exporting again brings them back.', '');
  for (const rule of rules) {
    const types = removed.get(rule.id);
    const total = types ? [...types.values()].reduce((sum, sources) => sum + [...sources.values()].reduce((a, b) => a + b, 0), 0) : 0;
    lines.push(`Rule ${rule.id} (${rule.description}): ${JSON.stringify(rule.reason)}; removed ${total} points`);
    for (const [type, sources] of [...(types ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`  ${type}`);
      for (const [source, n] of [...sources].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`    ${JSON.stringify(source)}\t${n}`);
    }
  }
  lines.push('');
  return lines;
}
