/**
 * Processing alone, for bench/dcs-runs.ts: run in its own process (so no benchmark's heap weighs
 * on its garbage collector) on the database in BENCH_DATABASE_URL, one loop (processUntilEmpty,
 * what `dcs process-bundles --until-empty` runs). Prints `started` when connected, then one JSON
 * line: its own CPU seconds over the processing, the wall time and the points processed.
 */
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { processUntilEmpty } from '../src/processing/process-bundles.ts';

const url = process.env.BENCH_DATABASE_URL!;
const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn' });
const pool = new pg.Pool({ connectionString: url, max: 2 });
await pool.query('SELECT 1'); // connected before the clock starts
console.log('started');
const cpu = process.cpuUsage();
const started = performance.now();
const total = await processUntilEmpty({ pool, config, log: createLogger('warn') });
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ cpuSeconds: (used.user + used.system) / 1e6, seconds: (performance.now() - started) / 1000, points: total.points, failed: total.failed }));
await pool.end();
