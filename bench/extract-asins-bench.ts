/**
 * `npm run bench -- extract-asins`: extractAsins alone (no database) on the harvest bench's points
 * (bench/harvest-points.ts), CPU µs per point for each kind of point and for the bench's mix.
 * BENCH_EXTRACT_ROUNDS (default 2,000) points of each kind, after as many to warm up.
 */
import { extractAsins } from '../src/amazon/extract-asins.ts';
import { harvestMix, harvestPoint } from './harvest-points.ts';

const ROUNDS = Number(process.env.BENCH_EXTRACT_ROUNDS ?? 2_000);

/** CPU µs per call of `run` over `points` (user + system of this process). */
function cpuMicrosPerPoint(points: Array<Record<string, unknown>>, generatorId: string): number {
  const start = process.cpuUsage();
  for (const point of points) extractAsins(generatorId, point);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / points.length;
}

export async function benchExtractAsins(): Promise<void> {
  const mix = harvestMix();
  console.log(`load average: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log('| point | point JSON bytes | share | µs CPU per point |\n| --- | --- | --- | --- |');
  let weighted = 0;
  for (const [template, share] of mix) {
    const generatorId = String(template.generatorId);
    const points = Array.from({ length: ROUNDS }, (_, i) => harvestPoint(template, i));
    cpuMicrosPerPoint(points, generatorId); // warm-up
    const micros = cpuMicrosPerPoint(points, generatorId);
    weighted += micros * share;
    const html = JSON.stringify(template).length;
    console.log(`| ${generatorId} | ${html.toLocaleString("en")} | ${(share * 100).toFixed(0)}% | ${micros.toFixed(1)} |`);
  }
  console.log(`| the bench's mix | | 100% | ${weighted.toFixed(1)} (${Math.round(1e6 / weighted).toLocaleString('en')} points/s per core) |`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchExtractAsins();
