import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RequestFramer } from '../../src/ingest/create-method.ts';
import { BUNDLE_ADDED, BUNDLE_ADDED_PRETTY } from '../helpers/replies.ts';
import { samples } from '../helpers/samples.ts';
import { useTestServer } from '../helpers/server.ts';

/** Feeds `input` to a framer in pieces of `size` bytes; returns what it forwards. */
function frame(input: string, size: number): string {
  const framer = new RequestFramer();
  const bytes = Buffer.from(input);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(framer.feed(bytes.subarray(i, i + size)));
  return Buffer.concat(out).toString();
}

describe('RequestFramer', () => {
  const body = '[{"text": "CREATE /data/add-bundle.json HTTP/1.1"}]';
  const create = `CREATE /data/add-bundle.json HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const post = `POST /data/add-bundle.json HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('rewrites the method of every request and never a body, whatever the chunking', () => {
    const input = create + post + create;
    const expected = input.replace(/^CREATE /, 'SOURCE ').replace(`${body}CREATE `, `${body}SOURCE `);
    expect(expected.match(/SOURCE /g)).toHaveLength(2);
    for (const size of [1, 2, 3, 5, 7, 64, 4096]) {
      expect(frame(input, size)).toBe(expected);
    }
  });

  it('follows chunked bodies, including chunk extensions and trailers', () => {
    const chunked = 'CREATE /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
      + '7;ext=1\r\nCREATE \r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n';
    const input = chunked + create;
    const out = frame(input, 3);
    expect(out.startsWith('SOURCE /x')).toBe(true);
    expect(out).toContain('\r\nCREATE \r\n'); // chunk data untouched
    expect(out.endsWith(`SOURCE /data/add-bundle.json HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`)).toBe(true);
  });

  it('stops rewriting when the framing is not understood', () => {
    const bad = 'POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!';
    expect(frame(bad + create, 4)).toBe(bad + create);
  });
});

describe('CREATE over real sockets', () => {
  const server = useTestServer();

  /** Sends raw bytes on one connection and collects responses until `count` have arrived. */
  function exchange(socket: net.Socket, bytes: string, count: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let received = '';
      const onData = (data: Buffer) => {
        received += data.toString();
        if ((received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= count && /\r\n\r\n[\s\S]*\}$/.test(received)) {
          socket.off('data', onData);
          resolve(received);
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(bytes);
    });
  }

  function request(method: string, body: string, extra = ''): string {
    return `${method} /data/add-bundle.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }

  it('accepts CREATE, POST and CREATE again on one keep-alive connection, and pipelined', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const [a, b, c] = samples(0, 7, 18);
    const first = await exchange(socket, request('CREATE', JSON.stringify([a], null, 2)), 1);
    expect(first).toMatch(/^HTTP\/1\.1 201 Created/);
    expect(first).toContain(BUNDLE_ADDED_PRETTY);
    const form = `compression=none&payload=${encodeURIComponent(JSON.stringify([b]))}`;
    const second = await exchange(socket, `POST /data/add-bundle.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`, 1);
    expect(second).toMatch(/^HTTP\/1\.1 201 Created/);
    expect(second).toContain(BUNDLE_ADDED);
    // Two pipelined CREATEs, the second with a chunked body, written in one go.
    const chunkedBody = JSON.stringify([c]);
    const chunked = `CREATE /data/add-bundle.json HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`;
    const third = await exchange(socket, request('CREATE', '[]') + chunked, 2);
    expect(third.match(/HTTP\/1\.1 201 Created/g)).toHaveLength(2);
    socket.destroy();

    const processed = await server.process();
    expect(processed.bundles).toBe(4);
    const { rows } = await server.db.pool.query('SELECT transport, point_count FROM bundles ORDER BY id');
    // The two pipelined requests are handled concurrently, so either may be stored first.
    expect(rows.slice(0, 2)).toEqual([
      { transport: 'create', point_count: 1 },
      { transport: 'form', point_count: 1 },
    ]);
    expect(rows.slice(2).sort((x, y) => x.point_count - y.point_count)).toEqual([
      { transport: 'create', point_count: 0 },
      { transport: 'create', point_count: 1 },
    ]);
  });

  it('answers an unknown method with a JSON 405 and keeps the connection usable', async () => {
    const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('CREATE, POST, PUT, HEAD, OPTIONS');
    expect(await response.json()).toMatchObject({ code: 'DCS_ERR_METHOD_NOT_ALLOWED' });
  });
});
