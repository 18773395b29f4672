/**
 * `dcs <command>`: argv -> the same functions the server uses. Returns the exit code.
 * Long-running commands report progress on stderr; results go to stdout.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { generateKeyPair } from '../crypto/box.ts';
import { completePointDigests } from '../db/point-digests.ts';
import type { Pool } from '../db/database.ts';
import { createLogger, type Logger } from '../log.ts';
import { openRuntime, startServer, stopOnSignals } from '../main.ts';
import { readStatus } from '../monitoring/status.ts';
import { processBatch, processUntilEmpty, type BatchResult } from '../processing/process-bundles.ts';
import { queueReprocess } from '../processing/reprocess.ts';
import { ARCHIVE_USAGE, archiveCommand } from './archive.command.ts';
import { BACKUP_USAGE, backupCommand, backupOfflineCommand, restoreCommand } from './backup.command.ts';
import { configCommand } from './config.command.ts';
import { DONATIONS_USAGE, donationKeyLines } from './donations.command.ts';
import { exportCommand } from './export.command.ts';
import { importPdkCommand } from './import-pdk.command.ts';
import { keepaCommand } from './keepa.command.ts';
import { jobsCommand, runJobCommand } from './jobs.command.ts';
import { generateSecretKey } from '../crypto/secretbox.ts';
import { SOURCES_USAGE, sourcesCommand } from './sources.command.ts';
import { tokensCommand } from './tokens.command.ts';
import { exclusionsCommand } from './exclusions.command.ts';
import { usersCommand } from './users.command.ts';

const USAGE = `Usage: dcs <command> [options]

Commands:
  start                     web server and processing worker in one process (what npm start runs)
  serve                     web server only
  worker                    processing worker only
  migrate                   apply database migrations (with their slow steps, progress on stderr), then exit
  process-bundles           process one batch of pending bundles
      --until-empty         ... keep going until none is pending
  reprocess                 rebuild data points from the stored bundles, then process them
      --source ID           only bundles with points of this participant
      --since ISO-TIME      only bundles received at or after this time
      --until ISO-TIME      only bundles received before this time
      --duplicates          only bundles with points taken for duplicates (after migration
                            0009: brings back the points the former key dropped)
  keys generate             print a new server key pair for encrypted uploads
${BACKUP_USAGE}
${ARCHIVE_USAGE}
${DONATIONS_USAGE}
  status [--json]           bundles, queue, points and participants
  jobs [--json]             scheduled jobs, their last runs and the run history
  run-job NAME              run one scheduled job now, in the foreground (exit 1 if it fails)
  users create NAME [--admin] | list | set-password NAME | remove NAME
                            dashboard accounts (password from stdin, or a prompt)
  tokens create NAME [--expires DAYS] [--scope read|read-write] | list | revoke NAME
                            API tokens for other servers (the enrollment server); docs/api.md
  exclusions list | add --reason TEXT [--source ID] [--group NAME] [--user-agent REGEX] [--type T]
             [--from TIME] [--to TIME] | edit ID [the same options] | remove ID | enable ID
                            rules leaving points out of exports, statistics and the API; docs/data-quality.md
  export --types T1,T2|all [--sources S1,S2 | --groups G1] [--from DAY] [--to DAY]
         [--date-type created|recorded] [--format tsv|raw|parquet] --out FILE.zip
                            write an export archive (progress on stderr; exit 1 on failure)
  export nightly --date DAY re-run the nightly export that ran on DAY (it exports the day before;
                            the night's archives are replaced under their names)
${SOURCES_USAGE}
  keepa status [--json]     Keepa tokens, the enrichment queue and the ASIN harvest's position
  config export FILE | import FILE | assign SOURCE NAME|--clear | list
                            REX configurations served at /data/app-config.json (docs/app-config.md)
  import-pdk --database URL [--from-start] | --backups DIR [--key BASE64]
                            move a study here from an original PDK / Webmunk server (its database
                            or its backup files), process it, report the counts on both sides
                            (exit 1 if anything could not be imported); docs/operations.md

Configuration comes from environment variables; see README.md.`;

function progressLine(total: BatchResult, startedAt: number): string {
  const seconds = (Date.now() - startedAt) / 1000;
  return `processed ${total.bundles} bundles, ${total.added} points added (${total.points} seen, ${total.rejected} rejected, ${total.failed} failed) in ${seconds.toFixed(1)} s, ${Math.round(total.points / Math.max(seconds, 0.001))} points/s`;
}

const SERVER_COMMANDS = ['start', 'serve', 'worker'];

/**
 * Migration 0009's rewrite of stored points (db/point-digests.ts), in the foreground with its
 * progress, or waiting for the process doing it: commands that process bundles need it done.
 */
async function completeDigests(pool: Pool, log: Logger): Promise<void> {
  const report = (line: string) => console.error(line);
  if (await completePointDigests(pool, log, { report })) return;
  console.error('another process is computing the content digests of stored points (migration 0009); waiting for it to finish');
  await completePointDigests(pool, log, { report, wait: true });
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      'until-empty': { type: 'boolean', default: false },
      source: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      duplicates: { type: 'boolean', default: false },
      admin: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'backup' && rest[0] === 'key' && rest.length === 1) {
    console.log(`BACKUP_KEY=${generateSecretKey()}`);
    console.log('# Keep a copy away from this server: without it no backup can be read.');
    return 0;
  }
  if (command === 'donations') {
    if (rest[0] !== 'keys' || rest.length !== 1) {
      console.error('Usage: dcs donations keys');
      return 1;
    }
    console.log(donationKeyLines().join('\n'));
    return 0;
  }
  if (command === 'keys') {
    if (rest[0] !== 'generate') {
      console.error('Usage: dcs keys generate');
      return 1;
    }
    const pair = generateKeyPair();
    console.log(`PDK_SERVER_KEY=${pair.secretKey}`);
    console.log(`# server public key, for clients: ${pair.publicKey}`);
    console.log('# PDK_CLIENT_KEY is the public key of the key pair your clients share.');
    return 0;
  }

  if (![...SERVER_COMMANDS, 'migrate', 'process-bundles', 'reprocess', 'status', 'jobs', 'run-job', 'users', 'tokens', 'exclusions', 'export', 'keepa', 'config', 'backup', 'restore', 'import-pdk', 'sources', 'archive'].includes(command)) {
    // Before the configuration and the database: a typo must not start an embedded PostgreSQL.
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 1;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (command === 'backup') {
    try {
      const offline = await backupOfflineCommand(config, rest);
      if (offline !== null) return offline;
    } catch (error) {
      console.error((error as Error).message);
      return 1;
    }
  }
  const isServer = SERVER_COMMANDS.includes(command);
  // One-shot commands keep the log quiet unless asked, and on stderr, so their output stays readable.
  const log = createLogger(isServer || process.env.LOG_LEVEL ? config.logLevel : 'warn', isServer ? 'stdout' : 'stderr');

  if (isServer) {
    let running;
    try {
      running = await startServer(config, log, { web: command !== 'worker', worker: command !== 'serve' });
    } catch (error) {
      log.fatal({ err: error }, `could not start: ${(error as Error).message}`);
      // Exit now, whatever the failed start left behind (a timer, a connection): a process that
      // lingers after failing is never restarted by its supervisor. (pino flushes on exit.)
      process.exit(1);
    }
    stopOnSignals(running, log);
    await new Promise(() => undefined); // run until a signal
  }

  // `dcs export`, `dcs tokens`, `dcs sources`, `dcs config`, `dcs backup`, `dcs restore` and `dcs import-pdk` parse their own options.
  let values: ReturnType<typeof parseOptions>['values'] = {} as ReturnType<typeof parseOptions>['values'];
  let positionals: string[] = [];
  try {
    if (!['export', 'tokens', 'exclusions', 'config', 'backup', 'restore', 'import-pdk', 'sources', 'archive'].includes(command)) ({ values, positionals } = parseOptions(rest));
    if (positionals.length > 0 && !['run-job', 'users', 'keepa'].includes(command)) throw new Error(`Unexpected argument "${positionals[0]}"`);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }

  let db;
  try {
    db = await openRuntime(config, log);
  } catch (error) {
    console.error(`Cannot open the database: ${(error as Error).message}`);
    return 1;
  }
  try {
    const deps = { pool: db.pool, readPool: db.readPool, config, log };
    switch (command) {
      case 'migrate':
        await completeDigests(db.pool, log);
        console.log('database is up to date');
        return 0;
      case 'process-bundles':
      case 'reprocess': {
        await completeDigests(db.pool, log);
        const startedAt = Date.now();
        if (command === 'reprocess') {
          const time = (name: 'since' | 'until') => {
            const text = values[name];
            if (text === undefined) return undefined;
            const date = new Date(text);
            if (Number.isNaN(date.getTime())) throw new Error(`--${name} must be an ISO time (got "${text}")`);
            return date;
          };
          const queued = await queueReprocess(db.pool, { source: values.source, since: time('since'), until: time('until'), duplicates: values.duplicates });
          console.error(`queued ${queued} bundles for reprocessing`);
        }
        const total = command === 'reprocess' || values['until-empty']
          ? await processUntilEmpty(deps, (t) => console.error(progressLine(t, startedAt)))
          : await processBatch(deps);
        console.log(progressLine(total, startedAt));
        return 0;
      }
      case 'status': {
        const status = await readStatus(db.pool, config.spoolDir);
        if (values.json) console.log(JSON.stringify(status));
        else for (const [key, value] of Object.entries(status)) console.log(`${key.padEnd(24)} ${value ?? '-'}`);
        return 0;
      }
      case 'jobs':
        return await jobsCommand(db.pool, config, values.json);
      case 'run-job':
        return await runJobCommand(deps, positionals[0]);
      case 'users':
        return await usersCommand(db.pool, positionals, values.admin);
      case 'tokens':
        return await tokensCommand(db.pool, rest);
      case 'exclusions':
        return await exclusionsCommand(db.pool, rest);
      case 'sources':
        return await sourcesCommand(db.pool, rest);
      case 'export':
        return await exportCommand(deps, rest);
      case 'config':
        return await configCommand(db.pool, rest);
      case 'backup':
        return await backupCommand(deps, rest);
      case 'restore':
        return await restoreCommand(deps, rest);
      case 'archive':
        return await archiveCommand(deps, rest);
      case 'keepa':
        return await keepaCommand(db.pool, config, positionals, values.json);
      case 'import-pdk':
        return await importPdkCommand(deps, rest, () => completeDigests(db.pool, log));
      default:
        console.error(`Unknown command "${command}".\n\n${USAGE}`);
        return 1;
    }
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  } finally {
    await db.close();
  }
}
