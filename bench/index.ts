/**
 * `npm run bench [-- ingest|api|dashboard|export|harvest|extract-asins|hostile|digests|backup|data-quality|scale|partitions|all]`: the default case (ingest), one case, or
 * every case. Figures go to BENCHMARKS.md.
 *   ingest     uploads accepted and points processed against the accept and storage limits (bench/ingest-bench.ts)
 *   dashboard  dashboard pages at 10,000 sources x 30 points, built through uploads (bench/dashboard-bench.ts)
 *   harvest    ASIN harvest points/s on HTML-bearing points (bench/harvest-bench.ts)
 *   extract-asins  extractAsins alone on the harvest bench's points: CPU µs per point (bench/extract-asins-bench.ts)
 *   export     export points/s, CPU and peak RSS: 1 M element-show points uploaded as a study does, a nightly day; BENCH_EXPORT_RULES=20: without and with exclusion rules (bench/export-bench.ts)
 *   digests    content digests: their CPU in planning, migration 0009 per million points (bench/digest-bench.ts)
 *   api        the PDK query API at 10,000 sources x 50 M points built in PostgreSQL: per-call latency at 8 callers (bench/api-bench.ts)
 *   hostile    uploads built to exhaust memory: replies, peak RSS, responsiveness (bench/hostile-bench.ts)
 *   data-quality  the data-quality job on 10,000 sources after 1 M new points and 100,600 uploads (bench/data-quality-bench.ts)
 *   scale      processing points/s against 1..6 `dcs worker` processes, each CPU-capped (cgroup), on one PostgreSQL (bench/scale-bench.ts)
 *   partitions COPY into data_points partitioned by month vs the same table unpartitioned (bench/partitions-bench.ts)
 *   backup     dcs backup run and dcs restore (processing included) on the export bench's 1.12 M points: throughput, CPU, peak RSS (bench/backup-bench.ts)
 */
import { benchApi } from './api-bench.ts';
import { benchBackup } from './backup-bench.ts';
import { benchDashboard } from './dashboard-bench.ts';
import { benchDataQuality } from './data-quality-bench.ts';
import { benchDigests } from './digest-bench.ts';
import { benchExport } from './export-bench.ts';
import { benchExtractAsins } from './extract-asins-bench.ts';
import { benchHarvest } from './harvest-bench.ts';
import { benchHostile } from './hostile-bench.ts';
import { benchIngest } from './ingest-bench.ts';
import { benchPartitions } from './partitions-bench.ts';
import { benchScale } from './scale-bench.ts';

const CASES: Record<string, () => Promise<void>> = { ingest: benchIngest, api: benchApi, dashboard: benchDashboard, export: benchExport, harvest: benchHarvest, 'extract-asins': benchExtractAsins, hostile: benchHostile, digests: benchDigests, backup: benchBackup, 'data-quality': benchDataQuality, scale: benchScale, partitions: benchPartitions };
const args = process.argv.slice(2);
const chosen = args.length === 0 ? ['ingest'] : args.includes('all') ? Object.keys(CASES) : args;
for (const name of chosen) {
  if (!CASES[name]) {
    console.error(`Unknown benchmark "${name}"; cases: ${Object.keys(CASES).join(', ')}, all`);
    process.exit(1);
  }
}
for (const name of chosen) {
  console.log(`\n## ${name}\n`);
  await CASES[name]();
}
