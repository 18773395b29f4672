/**
 * The raw and Parquet formats and README.txt, through the same writeExport the jobs use, read
 * back with independent readers (JSON.parse, hyparquet); and the e-mail notice of a finished or
 * failed job through a real SMTP server.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { insertReportJob, claimNextReportJob } from '../../src/exports/report-jobs.repository.ts';
import { runReportJob } from '../../src/exports/run-report-job.ts';
import { createLogger } from '../../src/log.ts';
import { putConfiguration } from '../app-config/support.ts';
import { dayIn } from '../helpers/days.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, tempDir, uploadPoints } from './support.ts';

const server = useTestServer({ TIME_ZONE: 'America/New_York' });
const show = samples(2, 2, 3);
show[1]['passive-data-metadata']!.timestamp = 1694800000.25; // the next day in New York
show[1]['tab-id'] = 'not a number';

beforeAll(async () => {
  await uploadPoints(server, [...show, ...samples(7, 10)]);
});

describe('raw format', () => {
  it('writes the points as stored, one JSON array per source, type and day of Date Created', async () => {
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-show', 'webmunk-amazon-order'], sources: ['48213077'], format: 'raw' });
    expect([...archive.keys()].sort()).toEqual([
      '48213077__webmunk-amazon-order__2023-09-14.json',
      '48213077__webmunk-extension-element-show__2023-09-14.json',
      '48213077__webmunk-extension-element-show__2023-09-15.json',
      'README.txt',
    ]);
    const day = JSON.parse(archive.get('48213077__webmunk-extension-element-show__2023-09-14.json')!.data.toString('utf8'));
    // the sample itself; its modified copy was made the next day in New York
    expect(day).toHaveLength(1);
    expect(day[0]).toMatchObject({ ...show[0], 'passive-data-metadata': { ...show[0]['passive-data-metadata'], encrypted_transmission: false } });
    const text = archive.get('48213077__webmunk-extension-element-show__2023-09-15.json')!.data.toString('utf8');
    expect(text.startsWith('[\n  {\n    "')).toBe(true);
    expect(JSON.parse(text)[0]['tab-id']).toBe('not a number');
  });
});

describe('parquet format', () => {
  it('writes one typed file per type that an independent reader reads back', async () => {
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-show', 'webmunk-extension-action'], sources: ['48213077'], format: 'parquet' });
    expect([...archive.keys()].sort()).toEqual(['README.txt', 'webmunk-extension-action.parquet', 'webmunk-extension-element-show.parquet']);
    const bytes = archive.get('webmunk-extension-element-show.parquet')!.data;
    const file = new Uint8Array(bytes).buffer; // a copy: an ArrayBuffer of exactly the file
    const metadata = parquetMetadata(file);
    expect(Number(metadata.num_rows)).toBe(2);
    const rows = await parquetReadObjects({ file, parsers: { timestampFromMicroseconds: (micros: bigint) => micros } as never });
    // newest first: the next-day point, with its bad tab id as null
    expect(rows[0]).toMatchObject({ Source: '48213077', 'Date Created': 1694800000250000n, 'Tab ID': null, Visible: 1n, Top: 1236.5, Left: 212, 'Time Zone': 'America/New_York' });
    expect(rows[1]).toMatchObject({ 'Date Created': 1694706191027000n, 'Tab ID': 1843211302n, 'Element Class': 'webmunk-asin-item' });
    expect(rows[1]['Element HTML']).toMatch(/^<div data-asin="B0BXYZ1234"/);
    expect(Object.keys(rows[0])).toEqual(['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Visible', 'Element Class', 'Top', 'Left', 'Width', 'Height', 'URL', 'Page Title', 'Element HTML']);
  });
});

describe('README.txt', () => {
  it('lists the request, the points per type and source, and every file with its columns', async () => {
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-show', 'webmunk-amazon-order', 'pdk-web-visit'], sources: ['48213077', 'nobody'], from: '2023-09-01', to: '2023-09-30' });
    const readme = archive.get('README.txt')!.data.toString('utf8');
    expect(readme).toContain('\r\n');
    expect(readme).toMatch(/Dates: 2023-09-01 to 2023-09-30 \(whole days in America\/New_York, both included\), by Date Created/);
    expect(readme).toMatch(/webmunk-extension-element-show \(Webmunk: Element Visible Events\): 2 points\r\n {2}48213077\t2\r\n/);
    expect(readme).toMatch(/webmunk-amazon-order \(Webmunk: Amazon Order Items\): 1 points/);
    expect(readme).toMatch(/pdk-web-visit \(.*\): 0 points/);
    expect(readme).toMatch(/webmunk-amazon-order\.txt: Webmunk: Amazon Order Items; one row per item of an order\.\r\n {2}Source: participant identifier/);
    expect(readme).toContain('  Order Tax: `order-tax`, else `order-Tax`');
    expect(readme).toContain('pdk-web-visit.txt: ');
    expect(readme).toContain('  Properties: the whole point as compact JSON');
    // the cells are the participants' own text, unescaped (byte-compatible with the original)
    expect(readme).toMatch(/Open the \.txt files as text, not by double-clicking them into a spreadsheet: cells may begin with = \+ - @/);
  });

  it('names the REX configurations served to the requested sources, with versions and counts', async () => {
    const before = (await exportArchive(server, { types: ['webmunk-extension-action'], sources: ['48213077'] })).get('README.txt')!.data.toString('utf8');
    expect(before).not.toContain('REX configurations served');
    await putConfiguration(server.db.pool, { name: 'arm "A"', idPattern: '48213077|S[0-9]' });
    for (const id of ['48213077', 'S1']) await fetch(`${server.baseUrl}/data/app-config.json?id=${id}`);
    await putConfiguration(server.db.pool, { name: 'arm "A"', idPattern: '48213077|S[0-9]', order: 2 });
    await fetch(`${server.baseUrl}/data/app-config.json?id=S2`);
    await fetch(`${server.baseUrl}/data/app-config.json?id=S3`); // not requested: not counted
    const archive = await exportArchive(server, { types: ['webmunk-extension-action'], sources: ['48213077', 'S1', 'S2', 'nobody'] });
    const readme = archive.get('README.txt')!.data.toString('utf8');
    expect(readme).toContain('REX configurations served\r\n-------------------------\r\n');
    expect(readme).toContain('  "arm \\"A\\""\tversion 1\t2 sources\r\n  "arm \\"A\\""\tversion 2\t1 source\r\n');
  });

  it('says nothing of spreadsheets where there is no TSV', async () => {
    const archive = await exportArchive(server, { types: ['webmunk-extension-action'], sources: ['48213077'], format: 'parquet' });
    expect(archive.get('README.txt')!.data.toString('utf8')).not.toMatch(/spreadsheet/);
  });
});

describe('e-mail notice', () => {
  let smtp: SMTPServer;
  const received: Array<{ to: string[]; raw: string }> = [];
  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it('tells EXPORT_NOTIFY_EMAIL when a job is done, with the download link, and when one failed', async () => {
    const exportDir = tempDir();
    const config = loadConfig({
      DATABASE_URL: server.db.url, EXPORT_DIR: exportDir, PUBLIC_URL: 'https://data.example.org',
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, EXPORT_NOTIFY_EMAIL: 'ra@example.org,pi@example.org',
    });
    const request = { requestedBy: 'ana', selection: { all: true } as const, sources: ['48213077'], types: ['webmunk-extension-action'], dateType: 'created' as const, format: 'tsv' as const, namePrefix: 'export' };
    const ok = (await insertReportJob(server.db.pool, { ...request, destinations: ['folder'] }))!;
    expect(await runReportJob({ pool: server.db.pool, config, log: createLogger('silent') }, (await claimNextReportJob(server.db.pool, [ok.id]))!)).toBe('done');
    const bad = (await insertReportJob(server.db.pool, { ...request, destinations: ['folder', 's3'] }))!;
    expect(await runReportJob({ pool: server.db.pool, config, log: createLogger('silent') }, (await claimNextReportJob(server.db.pool, [bad.id]))!)).toBe('failed');
    expect(received).toHaveLength(2);
    expect(received[0].to).toEqual(['ra@example.org', 'pi@example.org']);
    const unfolded = (raw: string) => raw.replace(/=\r\n/g, '').replace(/\r\n[ \t]+/g, ' ');
    expect(unfolded(received[0].raw)).toMatch(new RegExp(`Subject: \\[webmunk-dcs\\] Export ready: export_${ok.id}_`));
    expect(unfolded(received[0].raw)).toContain(`https://data.example.org/data/export/jobs/${ok.id}/download`);
    expect(unfolded(received[1].raw)).toMatch(/Subject: \[webmunk-dcs\] Export failed/);
    expect(unfolded(received[1].raw)).toContain('EXPORT_S3_BUCKET is not set');
    expect(fs.readdirSync(path.join(exportDir))).toContain(`export_${ok.id}_${dayIn(config.timeZone)}.zip`);
  });
});
