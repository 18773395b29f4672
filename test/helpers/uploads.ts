/**
 * Uploads of every transport clients use (form, gzip form, multipart, CREATE, PUT gzip, raw JSON,
 * add-point), each carrying one point that no other upload carries: `marker` is in its
 * properties, so a test can count how often each acknowledged upload's point was stored.
 */
import { gzipSync } from 'node:zlib';
import { SAMPLES, type Point } from './samples.ts';

export interface TestUpload {
  transport: string;
  path: 'add-bundle.json' | 'add-point.json';
  init: { method: string; headers: Record<string, string>; body: Buffer<ArrayBuffer> };
}

export const TRANSPORTS = ['form', 'gzip-form', 'multipart', 'create', 'put-gzip', 'json', 'point'] as const;

/** A sample point made unique by `marker` (its timestamp too, so its content hash differs). */
export function markedPoint(marker: number): Point {
  const point = structuredClone(SAMPLES[marker % SAMPLES.length]);
  point['outage-marker'] = marker;
  point['passive-data-metadata'] = { ...point['passive-data-metadata'], timestamp: 1_700_000_000 + marker / 1000 };
  return point;
}

function multipart(fields: Record<string, string>): { body: Buffer<ArrayBuffer>; contentType: string } {
  const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The upload number `marker`, sent the `transport` way. `identifier`: as 2026 clients send X-PDK-IDENTIFIER. */
export function testUpload(marker: number, transport: (typeof TRANSPORTS)[number], identifier?: string): TestUpload {
  const point = markedPoint(marker);
  const json = JSON.stringify([point], null, 2);
  const extra: Record<string, string> = identifier ? { 'x-pdk-identifier': identifier } : {};
  const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: Buffer.from(new URLSearchParams(fields).toString()) });
  const gzipped = () => gzipSync(Buffer.from(json)).toString('base64');
  switch (transport) {
    case 'form':
      return { transport, path: 'add-bundle.json', init: form({ payload: json }) };
    case 'gzip-form':
      return { transport, path: 'add-bundle.json', init: form({ compression: 'gzip', payload: gzipped() }) };
    case 'multipart': {
      const { body, contentType } = multipart({ compression: 'gzip', payload: gzipped() });
      return { transport, path: 'add-bundle.json', init: { method: 'POST', headers: { 'content-type': contentType, ...extra }, body } };
    }
    case 'create':
      return { transport, path: 'add-bundle.json', init: { method: 'CREATE', headers: { 'content-type': 'application/json', ...extra }, body: Buffer.from(json) } };
    case 'put-gzip':
      return { transport, path: 'add-bundle.json', init: { method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...extra }, body: gzipSync(Buffer.from(json)) } };
    case 'json':
      return { transport, path: 'add-bundle.json', init: { method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body: Buffer.from(json) } };
    case 'point':
      return { transport, path: 'add-point.json', init: form({ payload: JSON.stringify(point) }) };
  }
}
