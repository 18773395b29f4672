/**
 * Lets Node's HTTP server accept the non-standard method CREATE, which 2019–2023 extensions use.
 *
 * Node's parser (llhttp) knows a fixed list of methods and answers anything else with a 400 before
 * any handler runs; no option changes that. So every TCP connection passes through a small framing
 * tracker before it reaches the HTTP server: the tracker follows request boundaries (request head,
 * then a Content-Length or chunked body) and, at the start of each request, rewrites the method
 * token `CREATE` to `SOURCE`: a method llhttp accepts, of the same length (so no byte offsets
 * move), that no PDK client sends. Routes treat SOURCE as CREATE. Bodies are never modified. Any
 * framing the tracker does not understand (a malformed head, CONNECT, an Upgrade) switches it to
 * pass-through for the rest of the connection, leaving llhttp to answer as it always does.
 *
 * Node documents that any Duplex can be injected into an HTTP server with
 * `server.emit('connection', stream)`; `FramedSocket` is that Duplex around the real socket.
 */
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';

/** The method CREATE arrives as, once rewritten. */
export const CREATE_CARRIER = 'SOURCE';

const CREATE = Buffer.from('CREATE ');
const CARRIER = Buffer.from(`${CREATE_CARRIER} `);
const MAX_HEAD_BYTES = 64 * 1024;
const CR = 13;
const LF = 10;

type State = 'start' | 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'passthrough';

/** Follows HTTP/1.1 request framing over a byte stream and rewrites CREATE request lines in place. */
export class RequestFramer {
  private state: State = 'start';
  /** Bytes of a possible method token split across chunks, held back until we can decide. */
  private held: Buffer | undefined;
  private head: number[] = [];
  private remaining = 0;
  private line: number[] = [];

  /** Returns the bytes to forward (the same bytes, with CREATE rewritten, possibly re-joined). */
  feed(input: Buffer): Buffer {
    let chunk = input;
    if (this.held) {
      chunk = Buffer.concat([this.held, input]);
      this.held = undefined;
    }
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'passthrough':
          return chunk;
        case 'start': {
          // Blank lines before a request line are allowed (RFC 9112 §2.2).
          while (i < chunk.length && (chunk[i] === CR || chunk[i] === LF)) i++;
          if (i === chunk.length) break;
          const available = chunk.length - i;
          if (available < CREATE.length && CREATE.subarray(0, available).equals(chunk.subarray(i))) {
            const forward = chunk.subarray(0, i);
            this.held = Buffer.from(chunk.subarray(i));
            return forward;
          }
          if (available >= CREATE.length && chunk.subarray(i, i + CREATE.length).equals(CREATE)) {
            if (chunk === input) chunk = Buffer.from(input); // never write into a buffer we did not make
            CARRIER.copy(chunk, i);
          }
          this.state = 'head';
          this.head = [];
          break;
        }
        case 'head': {
          for (; i < chunk.length; i++) {
            const byte = chunk[i];
            this.head.push(byte);
            const n = this.head.length;
            if (byte === LF && ((n >= 2 && this.head[n - 2] === LF) || (n >= 3 && this.head[n - 2] === CR && this.head[n - 3] === LF))) {
              i++;
              this.endOfHead();
              break;
            }
            if (n > MAX_HEAD_BYTES) {
              this.state = 'passthrough';
              break;
            }
          }
          break;
        }
        case 'body': {
          const take = Math.min(this.remaining, chunk.length - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'start';
          break;
        }
        case 'chunk-size':
        case 'trailer': {
          for (; i < chunk.length; i++) {
            const byte = chunk[i];
            if (byte !== LF) {
              this.line.push(byte);
              if (this.line.length > 4096) {
                this.state = 'passthrough';
                break;
              }
              continue;
            }
            i++;
            const text = Buffer.from(this.line).toString('latin1').replace(/\r$/, '');
            this.line = [];
            if (this.state === 'trailer') {
              if (text === '') this.state = 'start';
              break;
            }
            const size = /^[0-9a-fA-F]{1,8}$/.test(text.split(';')[0].trim()) ? parseInt(text.split(';')[0].trim(), 16) : NaN;
            if (Number.isNaN(size)) this.state = 'passthrough';
            else if (size === 0) this.state = 'trailer';
            else {
              this.remaining = size;
              this.state = 'chunk-data';
            }
            break;
          }
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, chunk.length - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = 'chunk-end';
            this.remaining = 0;
          }
          break;
        }
        case 'chunk-end': {
          // The CRLF after chunk data.
          if (chunk[i] === CR) i++;
          else if (chunk[i] === LF) {
            i++;
            this.state = 'chunk-size';
          } else this.state = 'passthrough';
          break;
        }
      }
    }
    return chunk;
  }

  private endOfHead(): void {
    const lines = Buffer.from(this.head).toString('latin1').split(/\r?\n/);
    this.head = [];
    const method = lines[0].split(' ')[0];
    let contentLength: number | undefined;
    let chunked = false;
    let upgrade = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) {
          this.state = 'passthrough';
          return;
        }
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = value.toLowerCase().split(',').map((v) => v.trim()).includes('chunked');
      } else if (name === 'upgrade') {
        upgrade = true;
      }
    }
    if (method === 'CONNECT' || upgrade || (chunked && contentLength !== undefined)) {
      this.state = 'passthrough';
    } else if (chunked) {
      this.state = 'chunk-size';
    } else if (contentLength) {
      this.state = 'body';
      this.remaining = contentLength;
    } else {
      this.state = 'start';
    }
  }
}

/** The real socket seen through a RequestFramer, as a Duplex the HTTP server can own. */
export class FramedSocket extends Duplex {
  private readonly framer = new RequestFramer();

  constructor(private readonly raw: net.Socket) {
    super({ allowHalfOpen: true });
    raw.on('data', (data: Buffer) => {
      const forward = this.framer.feed(data);
      if (forward.length > 0 && !this.push(forward)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('timeout', () => this.emit('timeout'));
    raw.on('error', (error) => this.destroy(error));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.raw.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.raw.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(error);
  }

  // The parts of net.Socket that Node's HTTP server and Fastify use.
  setTimeout(ms: number, callback?: () => void): this {
    this.raw.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.raw.setKeepAlive(enable, delay);
    return this;
  }
  destroySoon(): void {
    this.end();
  }
  get remoteAddress() { return this.raw.remoteAddress; }
  get remotePort() { return this.raw.remotePort; }
  get remoteFamily() { return this.raw.remoteFamily; }
  get localAddress() { return this.raw.localAddress; }
  get localPort() { return this.raw.localPort; }
  get bytesWritten() { return this.raw.bytesWritten; }
  get bytesRead() { return this.raw.bytesRead; }
}

export interface FramingServer {
  readonly server: net.Server;
  /**
   * Stops accepting connections, closes idle keep-alive connections at once and the others as
   * soon as their requests are answered (after `timeoutMs`, all of them).
   */
  drain(timeoutMs: number): Promise<void>;
}

/** A TCP server that hands every connection, framed, to `httpServer`. */
export function createFramingServer(httpServer: HttpServer): FramingServer {
  const open = new Map<FramedSocket, { inFlight: number }>();
  let draining = false;
  httpServer.on('request', (request, response) => {
    const socket = request.socket as unknown as FramedSocket;
    const state = open.get(socket);
    if (!state) return;
    state.inFlight += 1;
    response.once('close', () => {
      state.inFlight -= 1;
      if (draining && state.inFlight === 0) socket.destroy();
    });
  });
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => {
    const socket = new FramedSocket(raw);
    open.set(socket, { inFlight: 0 });
    socket.once('close', () => open.delete(socket));
    httpServer.emit('connection', socket);
  });
  return {
    server,
    async drain(timeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [socket, state] of open) if (state.inFlight === 0) socket.destroy();
      const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([closed, timer]);
      for (const socket of open.keys()) socket.destroy();
      await closed;
    },
  };
}
