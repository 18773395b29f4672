/**
 * Re-runnable reports (issue 21 §3): the same export written twice, on the same data, is the same
 * bytes (entry order, entry times, compression, README.txt), whatever the hour and the machine's
 * TZ; data that changed in between gives other bytes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import type { ExportRequest } from '../../src/exports/export-request.ts';
import { writeExport } from '../../src/exports/write-export.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { tempDir, uploadPoints } from './support.ts';

const server = useTestServer({ TIME_ZONE: 'America/New_York' });

/** An element-show, element-click or action point (by `index`) of `source` created at `created`, its text varied by `index`. */
function point(source: string, created: string, index: number) {
  const [sample] = samples([2, 4, 7][index % 3]);
  sample.note = `point ${index} of ${source}`;
  sample['passive-data-metadata']!.source = source;
  sample['passive-data-metadata']!.timestamp = Date.parse(created) / 1000;
  sample.date = Date.parse(created);
  return sample;
}

async function written(request: Omit<ExportRequest, 'dateType'>, tz?: string): Promise<{ sha256: string; file: string }> {
  const file = path.join(tempDir(), 'export.zip');
  const before = process.env.TZ;
  // the process's zone is read at each Date call: a machine elsewhere writes the same archive
  if (tz) process.env.TZ = tz;
  try {
    await writeExport(
      { pool: server.db.pool, timeZone: 'America/New_York', serverSecretKey: undefined, labels: new Map(), serverVersion: 'test', publicUrl: server.config.publicUrl },
      { dateType: 'created', ...request },
      file,
    );
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
  return { sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), file };
}

/** Each entry's name and modification time as yauzl reads them (the DOS wall clock). */
function entryTimes(file: string): Promise<[string, number[]][]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const times: [string, number[]][] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        times.push([entry.fileName, [entry.lastModFileDate, entry.lastModFileTime]]);
        zip.readEntry();
      });
      zip.on('end', () => resolve(times));
      zip.readEntry();
    });
  });
}

describe('an export written again', () => {
  const sources = ['det-a', 'det-b', 'det-c'];
  const types = ['webmunk-extension-element-show', 'webmunk-extension-action', 'webmunk-extension-element-click'];

  it('is the same bytes in every format, across hours and TZs, and other bytes once the data changed', async () => {
    // enough text for several 256 KB chunks, compressed on several threads at once
    const points = sources.flatMap((source, s) => Array.from({ length: 400 }, (_, i) => point(source, `2024-03-0${1 + (i % 3)}T${String(10 + s).padStart(2, '0')}:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, i)));
    await uploadPoints(server, points);
    for (const format of ['tsv', 'parquet', 'raw'] as const) {
      const request = { sources, types, from: '2024-03-01', to: '2024-03-02', format };
      const first = await written(request, 'UTC');
      const second = await written(request, 'Asia/Tokyo');
      expect(second.sha256, format).toBe(first.sha256);
      expect(fs.statSync(first.file).size).toBeGreaterThan(5_000);
    }

    // the entries are dated the last ZIP moment of the window in TIME_ZONE: 2024-03-02 23:59:58
    const tsv = await written({ sources, types, from: '2024-03-01', to: '2024-03-02', format: 'tsv' });
    const dosDate = ((2024 - 1980) << 9) | (3 << 5) | 2;
    const dosTime = (23 << 11) | (59 << 5) | (58 >> 1);
    const times = await entryTimes(tsv.file);
    expect(times.map(([name]) => name)).toContain('README.txt');
    expect(times.every(([, time]) => time[0] === dosDate && time[1] === dosTime)).toBe(true);
    // without a to day: 1980-01-01 00:00, the earliest a ZIP holds
    const open = await written({ sources, types, from: '2024-03-01', format: 'tsv' });
    expect((await entryTimes(open.file)).every(([, time]) => time[0] === ((0 << 9) | (1 << 5) | 1) && time[1] === 0)).toBe(true);
    expect((await written({ sources, types, from: '2024-03-01', format: 'tsv' }, 'Asia/Tokyo')).sha256).toBe(open.sha256);

    // one more point in the window: other bytes
    await uploadPoints(server, [point('det-b', '2024-03-02T15:00:00Z', 999)]);
    expect((await written({ sources, types, from: '2024-03-01', to: '2024-03-02', format: 'tsv' })).sha256).not.toBe(tsv.sha256);
  });
});
