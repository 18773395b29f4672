/**
 * The storage limit's pipeline (bench/storage-limit.ts runs it in its own process): reads the
 * stored bundles from BENCH_BODIES (a file of length-prefixed gzip bodies), then does only what
 * storing their points needs. It decodes each bundle (gunzip, JSON.parse), turns each point into a
 * row (its metadata columns; its own text, sliced from the bundle's, as properties: point-text.ts,
 * the cheapest way known here, JSON.stringify costing more than the parse; a counter as the
 * content digest, as a counter needs no hashing to be unique) and COPYs the rows (binary) into
 * `limit_points` on two connections: this one thread encodes the next chunk while PostgreSQL
 * stores the last. Each chunk is one transaction with synchronous_commit off, as processing commits.
 *
 * Prints `decode <µs per point>` (decoding alone, timed apart), then `start` and `end <seconds>`
 * around each pass (a warm-up pass, then the measured ones; each on an emptied table, after a
 * CHECKPOINT), then `cpu <seconds>`: this process's CPU over the measured passes.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { BinaryCopyWriter } from '../src/processing/copy-writer.ts';
import { copyIn } from '../src/processing/copy-in.ts';
import { scanBundle } from '../src/processing/point-text.ts';

const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const CHUNK_BUNDLES = 16;
const CONNECTIONS = 2;
const POSTGRES_EPOCH_SECONDS = 946_684_800;
/** limit_points, or the partitioned limit_points_partitioned (`npm run bench -- partitions`) */
const TABLE = process.env.BENCH_TABLE ?? 'limit_points';
const COPY_SQL = `COPY ${TABLE} (source, generator_id, generator, secondary_identifier, user_agent, created, created_from,
  recorded, bundle_id, content_digest, properties) FROM STDIN (FORMAT binary)`;

function readBodies(file: string): Buffer[] {
  const data = fs.readFileSync(file);
  const bodies: Buffer[] = [];
  for (let offset = 0; offset < data.length;) {
    const length = data.readUInt32BE(offset);
    bodies.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return bodies;
}

function decode(body: Buffer): { text: string; points: Record<string, unknown>[] } {
  const text = gunzipSync(body).toString('utf8');
  return { text, points: JSON.parse(text) };
}

let counter = 0;

function encode(bodies: Buffer[], firstId: number, recordedPgMicros: number): Buffer[] {
  const writer = new BinaryCopyWriter();
  bodies.forEach((body, index) => {
    const { text, points } = decode(body);
    const spans = scanBundle(text);
    points.forEach((point, i) => {
      const meta = point['passive-data-metadata'] as Record<string, string | number>;
      const generator = String(meta.generator);
      writer.row(11);
      writer.textOften(String(meta.source));
      writer.textOften(String(meta['generator-id']));
      writer.textOften(generator);
      writer.null();
      writer.textOften(generator.slice(generator.indexOf(':') + 1).trim());
      writer.int64(Math.round((Number(meta.timestamp) - POSTGRES_EPOCH_SECONDS) * 1e6));
      writer.textOften('timestamp');
      writer.int64(recordedPgMicros);
      writer.int64(firstId + index);
      writer.uuid((counter += 1).toString(16).padStart(32, '0'));
      writer.jsonb(text.slice(spans[i].start, spans[i].end));
    });
  });
  return writer.finish();
}

async function pass(clients: pg.Client[], bodies: Buffer[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(clients.map(async (client) => {
    while (next < bodies.length) {
      const first = next;
      next += CHUNK_BUNDLES;
      const chunks = encode(bodies.slice(first, first + CHUNK_BUNDLES), first + 1, (Date.now() / 1000 - POSTGRES_EPOCH_SECONDS) * 1e6);
      await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      await copyIn(client, COPY_SQL, chunks);
      await client.query('COMMIT');
    }
  }));
  return (performance.now() - started) / 1000;
}

const bodies = readBodies(process.env.BENCH_BODIES!);
let points = 0;
const decodeCpu = process.cpuUsage();
for (const body of bodies) points += decode(body).points.length;
const decodeUsed = process.cpuUsage(decodeCpu);
console.log(`decode ${(decodeUsed.user + decodeUsed.system) / points}`);

const clients = Array.from({ length: CONNECTIONS }, () => new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL }));
await Promise.all(clients.map((c) => c.connect()));
let cpu = { user: 0, system: 0 };
for (let i = 0; i <= PASSES; i++) {
  await clients[0].query(`TRUNCATE ${TABLE}; CHECKPOINT`);
  console.log('start');
  const before = process.cpuUsage();
  const seconds = await pass(clients, bodies);
  if (i > 0) {
    const used = process.cpuUsage(before);
    cpu = { user: cpu.user + used.user, system: cpu.system + used.system };
  }
  console.log(`end ${seconds}`);
}
console.log(`cpu ${(cpu.user + cpu.system) / 1e6}`);
await Promise.all(clients.map((c) => c.end()));
