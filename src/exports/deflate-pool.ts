/**
 * Raw DEFLATE of independent chunks on the libuv thread pool, several at once. Each chunk is
 * compressed with a Z_FULL_FLUSH, so its output ends on a byte boundary and refers to nothing
 * before it: outputs laid end to end (and ended with a final block) are one valid DEFLATE stream.
 *
 * A few DeflateRaw handles are kept and reused: one `zlib.deflateRaw()` per chunk builds a stream
 * and a zlib state each time (4x the main thread's time per chunk, measured: 25 against 100 µs
 * per 256 KB chunk of export TSV, and 10% more CPU in all). The handles are read in paused mode
 * (one `read()` after each chunk) rather than through 'data' events, whose first chunk may come
 * after the write's callback.
 *
 * A reused handle must not change a chunk's output: exports are compared by checksum (issue 21).
 * A full flush clears DEFLATE's hash table but not its 64 KB window, and Node's zlib (Chromium's)
 * hashes a few bytes past the input's end, so a chunk shorter than the window came out otherwise
 * on a handle whose window held an earlier chunk's bytes there (measured: a 4 KB README.txt after
 * a 254 KB chunk, other bytes of the same size). Before such a chunk the handle compresses a
 * window of zeros and drops the output, so the bytes past the chunk are zeros, as on a new handle;
 * a chunk of a window or more overwrites the whole window itself.
 */
import zlib from 'node:zlib';

/** Called once per chunk: its compressed bytes, or why there are none. */
export type Deflated = (error: Error | undefined, output: Buffer) => void;

/** A chunk's output is at most its size plus a few bytes (chunks are at most 256 KB). */
const OUTPUT_BYTES = 1024 * 1024;
/** DEFLATE's window (2 × 32 KB, windowBits 15): what one chunk may leave behind for the next. */
const WINDOW_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(WINDOW_BYTES);

export class DeflatePool {
  private readonly handles: zlib.DeflateRaw[] = [];
  private readonly idle: zlib.DeflateRaw[] = [];
  /** each busy handle's chunk callback */
  private readonly busy = new Map<zlib.DeflateRaw, Deflated>();
  /** per handle: how far into its window earlier chunks left bytes that are not zeros */
  private readonly dirtyEnd = new Map<zlib.DeflateRaw, number>();
  private readonly waiting: { input: Buffer; done: Deflated }[] = [];
  private closed = false;

  constructor(handles: number, options: { level: number; memLevel: number }) {
    for (let i = 0; i < handles; i++) {
      // highWaterMark (a Transform option zlib passes on, absent from its types): above a chunk's
      // output, so the write's callback comes without waiting for the read that follows it
      const streamOptions = { ...options, flush: zlib.constants.Z_FULL_FLUSH, chunkSize: OUTPUT_BYTES, highWaterMark: OUTPUT_BYTES };
      const handle = zlib.createDeflateRaw(streamOptions as zlib.ZlibOptions);
      // zlib reports its errors here, not to the write's callback: the chunk fails with it
      handle.on('error', (error: Error) => this.settle(handle, error, Buffer.alloc(0)));
      this.handles.push(handle);
    }
    this.idle.push(...this.handles);
  }

  /** Compresses `input` (which must not change until `done` is called). */
  deflate(input: Buffer, done: Deflated): void {
    this.waiting.push({ input, done });
    this.next();
  }

  private next(): void {
    while (this.idle.length > 0 && this.waiting.length > 0 && !this.closed) {
      const handle = this.idle.pop()!;
      const { input, done } = this.waiting.shift()!;
      this.busy.set(handle, done);
      if (input.length < (this.dirtyEnd.get(handle) ?? 0)) this.clean(handle, () => this.compress(handle, input));
      else this.compress(handle, input);
    }
  }

  private compress(handle: zlib.DeflateRaw, input: Buffer): void {
    this.dirtyEnd.set(handle, Math.max(this.dirtyEnd.get(handle) ?? 0, Math.min(input.length, WINDOW_BYTES)));
    handle.write(input, (error) => {
      const output = (handle.read() as Buffer | null) ?? Buffer.alloc(0);
      this.settle(handle, error ?? (handle.destroyed ? new Error('DEFLATE stopped') : undefined), output);
    });
  }

  /** Fills the handle's window with zeros (their output dropped), then goes on. */
  private clean(handle: zlib.DeflateRaw, then: () => void): void {
    handle.write(ZEROS, (error) => {
      handle.read();
      if (error || handle.destroyed) return this.settle(handle, error ?? new Error('DEFLATE stopped'), Buffer.alloc(0));
      this.dirtyEnd.set(handle, 0);
      then();
    });
  }

  /** Calls the handle's chunk callback once, and puts the handle back to work if it is sound. */
  private settle(handle: zlib.DeflateRaw, error: Error | null | undefined, output: Buffer): void {
    const done = this.busy.get(handle);
    this.busy.delete(handle);
    if (this.closed || !done) return;
    if (error) return done(error, output);
    this.idle.push(handle);
    done(undefined, output);
    this.next();
  }

  /** Frees the handles (a chunk being compressed finishes on its thread; its callback is not called). */
  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.idle.length = 0;
    for (const handle of this.handles) handle.destroy();
  }
}
