/** `dcs sources erase ID [--yes] | readmit ID | erased`: erasure of withdrawn participants (docs/data-quality.md). */
import os from 'node:os';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { eraseSource, readmitSource, type ErasureReport } from '../data-quality/erasure.ts';
import { listErased } from '../data-quality/erasure.repository.ts';
import type { Pool } from '../db/database.ts';

export const SOURCES_USAGE = `  sources erase ID [--yes]  erase a withdrawn participant: every point, bundle, donated file and
                            statistic of ID, and keep its later uploads out (asks to type ID
                            again unless --yes); prints the counts and the backups still holding it
  sources readmit ID        take ID off the erased list: its uploads are stored again
  sources erased            the erased identifiers, when and by whom`;

/** Who did it, for the audit: the operating-system account running the command. */
const cliUser = () => `cli:${os.userInfo().username}`;

async function confirmed(identifier: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    console.error('dcs sources erase deletes the participant\'s data for good: add --yes to confirm (standard input is not a terminal).');
    return false;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`Type ${identifier} to erase everything of it: `, resolve));
  rl.close();
  return answer.trim() === identifier;
}

function printReport(report: ErasureReport): void {
  console.log(`erased ${report.identifier} (audit entry ${report.auditId}, ${report.doneAt.toISOString()})`);
  for (const [table, rows] of Object.entries(report.counts)) if (rows > 0) console.log(`  ${table.padEnd(26)} ${rows}`);
  if (report.mixedBundles.length > 0) {
    console.log(`kept ${report.mixedBundles.length} bundle(s) shared with other participants (ids ${report.mixedBundles.join(', ')}): their points of ${report.identifier} are deleted and stay dropped while it is erased`);
  }
  if (report.backupsBefore.length > 0) {
    console.log(`${report.backupsBefore.length} backup(s) written before still hold its data (docs/data-quality.md, "Erasure"):`);
    for (const backup of report.backupsBefore) console.log(`  ${backup.name}  ${backup.finished_at}  ${backup.destinations.join(', ')}`);
  }
}

export async function sourcesCommand(pool: Pool, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { yes: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\nUsage:\n${SOURCES_USAGE}`);
    return 1;
  }
  const [action, identifier, ...extra] = parsed.positionals;
  const needsId = action === 'erase' || action === 'readmit';
  if (!['erase', 'readmit', 'erased'].includes(action ?? '') || (needsId && !identifier?.trim()) || (!needsId && identifier) || extra.length > 0
    || (action !== 'erase' && parsed.values.yes)) {
    console.error(`Usage:\n${SOURCES_USAGE}`);
    return 1;
  }
  if (action === 'erased') {
    const client = await pool.connect();
    try {
      for (const row of await listErased(client)) console.log(`${row.identifier}\t${row.erasedAt.toISOString()}\t${row.erasedBy}`);
    } finally {
      client.release();
    }
    return 0;
  }
  if (action === 'readmit') {
    if (!(await readmitSource(pool, identifier, cliUser()))) {
      console.error(`${identifier} is not on the erased list`);
      return 1;
    }
    console.log(`re-admitted ${identifier}: its uploads are stored again`);
    return 0;
  }
  if (!parsed.values.yes && !(await confirmed(identifier))) {
    console.error('nothing erased');
    return 1;
  }
  printReport(await eraseSource(pool, identifier, cliUser()));
  return 0;
}
