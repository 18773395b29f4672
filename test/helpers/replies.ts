/**
 * The PDK replies and CORS headers clients depend on, written out here rather than imported from
 * src (so a change there fails the tests), and the request/assert pair the ingest tests share.
 */
import { expect } from 'vitest';
import type { TestServer } from './server.ts';

export const BUNDLE_ADDED = '{"message": "Data bundle added successfully, and ready for processing.", "added": true}';
export const BUNDLE_ADDED_PRETTY = '{\n  "message": "Data bundle added successfully, and ready for processing.",\n  "added": true\n}';
export const POINT_ADDED = '{\n  "message": "Data point added successfully."\n}';
export const UNPARSABLE_BUNDLE = '{"message": "Unable to parse data bundle."}';
export const UNPARSABLE_POINT = '{"message": "Unable to parse data point."}';
export const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'CREATE, POST, PUT, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Content-Encoding, Authorization, X-PDK-IDENTIFIER',
};

export interface Reply { status: number; headers: Headers; body: Buffer }

/** A request to /data/<path> on the test server; the reply body as bytes. */
export async function send(server: TestServer, path: string, init: RequestInit): Promise<Reply> {
  const response = await fetch(`${server.baseUrl}/data/${path}`, init);
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** Status and body exactly, the content type, and the CORS headers every reply carries. */
export function expectReply(reply: Reply, status: number, body: string, contentType = 'application/json'): void {
  expect({ status: reply.status, body: reply.body.toString('utf8') }).toEqual({ status, body });
  expect(reply.headers.get('content-type')).toBe(contentType);
  for (const [name, value] of Object.entries(CORS)) expect(reply.headers.get(name), name).toBe(value);
  // a request header, which the original wrongly sent on its replies
  expect(reply.headers.get('access-control-request-headers')).toBeNull();
}
