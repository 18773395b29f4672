/**
 * The export archive: a ZIP written as a stream, every entry DEFLATE-compressed (the original
 * mixed in BZIP2 entries that Windows cannot open), ZIP64 where sizes, offsets or the count need
 * it. Entries are written one after another; `entry()` hands out a text sink with back-pressure,
 * so a multi-gigabyte export never sits in memory.
 *
 * The ZIP is ours (zip-records.ts) rather than a library's: an entry's text is cut into 256 KB
 * chunks, each compressed on its own on the thread pool (deflate-pool.ts), several at once, so
 * compression uses both cores while PostgreSQL and this thread share them; the outputs go to the
 * file in order, 1 MB per write (archive-file.ts), and the CRC-32 is computed in order here.
 * yazl, which wrote it before, and archiver's zip-stream (npm has no parallel ZIP writer) push
 * each entry through one zlib stream with 16 KB outputs and a stream callback each, compress on
 * one thread at a time and take no `memLevel`. Measured on 500 MB of element-show-like TSV
 * (233,800 rows) in one process, alternating, 3 runs each: yazl 18.9-21.7 µs of CPU per row,
 * 7.5-11.3 on the main thread; this 14.3-15.5 and 5.2-5.9; the archive 1.9% larger (each chunk
 * restarts DEFLATE's window).
 */
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { ArchiveFile } from './archive-file.ts';
import { DeflatePool } from './deflate-pool.ts';
import { centralDirectory, dataDescriptor, localHeader, zipTime, type ZipEntryRecord, type ZipTime } from './zip-records.ts';

/**
 * DEFLATE level 1: measured on 412,000 element-show points, level 6 (zlib's default) took 10.2 s
 * and 6.0 MB, level 3 7.7 s and 8.1 MB, level 1 7.3 s and 8.5 MB. On two cores the compressor
 * competes with PostgreSQL for the CPU, and an export's size matters far less than its time.
 * `memLevel: 9` (zlib's largest hash table): 10% faster than 8 at the same size on export TSV.
 */
const DEFLATE_OPTIONS = { level: 1, memLevel: 9 };

/**
 * Text is encoded straight into buffers of this size; each is one chunk compressed on its own
 * (every chunk restarts DEFLATE's 32 KB window: ~1.4% larger than one stream).
 */
const CHUNK_BYTES = 256 * 1024;
/** Chunks compressed at once: more than the cores, so a thread is never idle for want of one. */
const DEFLATERS = 4;
/** Chunks handed over and not yet in the file's buffer: past this, `full` (about 2 MB of text). */
const MAX_PENDING = 8;
/** An empty final block (fixed Huffman codes, BFINAL set): ends an entry's DEFLATE stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
const QUOTE = 0x22;
/** Where the quotes of the text being quoted are (a quote is one UTF-8 byte: at most a chunk of them). */
const QUOTE_AT = new Int32Array(CHUNK_BYTES);

/** A chunk handed to the compressor: its output once there. */
class Chunk {
  output: Buffer | undefined;
}

/** An entry on its way to the file: its header, chunks and final block in order, then its descriptor. */
interface Part {
  record: ZipEntryRecord;
  pieces: (Chunk | Buffer)[];
  /** pieces already in the file's buffer */
  taken: number;
  started: boolean;
  ended: boolean;
  /** its chunks handed over and not yet taken */
  pending: number;
  /** called (once) when one of its chunks is taken */
  onTaken?: () => void;
}

export class EntryWriter {
  private buffer: Buffer;
  private used = 0;
  private crc = 0;
  private finished = false;
  bytes = 0;

  /** @internal made by ArchiveWriter.entry() */
  constructor(private readonly archive: ArchiveWriter, private readonly part: Part) {
    this.buffer = archive.takeBuffer();
  }

  /** Appends one ASCII byte. */
  byte(code: number): void {
    if (this.used === this.buffer.length) this.flush();
    this.buffer[this.used++] = code;
  }

  /**
   * Appends `"text"` with every quote doubled (the TSV quoting): the text is encoded once, and
   * its quotes are doubled in the buffer, right to left (element HTML holds dozens of quotes,
   * and String.replaceAll took longer than everything else in writing a row).
   */
  writeQuoted(text: string): void {
    // at most 3 bytes per UTF-16 unit (a doubled quote takes 2), and the two quotes
    if (!this.makeRoom(text.length * 3 + 2)) {
      this.write(`"${text.replaceAll('"', '""')}"`);
      return;
    }
    this.buffer[this.used] = QUOTE;
    const start = this.used + 1;
    this.closeQuoted(start, start + this.buffer.write(text, start, 'utf8'));
  }

  /** The same for text already in UTF-8. */
  writeQuotedBytes(bytes: Buffer): void {
    // a doubled quote takes 2 bytes, and the two quotes
    if (!this.makeRoom(bytes.length * 2 + 2)) {
      this.write(`"${bytes.toString('utf8').replaceAll('"', '""')}"`);
      return;
    }
    this.buffer[this.used] = QUOTE;
    const start = this.used + 1;
    this.closeQuoted(start, start + bytes.copy(this.buffer, start));
  }

  /** Doubles the quotes of the text at [start, end) and closes it with a quote (the room is there). */
  private closeQuoted(start: number, end: number): void {
    const buffer = this.buffer;
    // searched in a view of the text alone (the buffer's old bytes lie past it)
    const text = buffer.subarray(start, end);
    let quotes = 0;
    for (let at = text.indexOf(QUOTE); at !== -1; at = text.indexOf(QUOTE, at + 1)) QUOTE_AT[quotes++] = start + at;
    // each segment moves right by the number of quotes before its end
    let from = end;
    for (let k = quotes - 1; k >= 0; k--) {
      const at = QUOTE_AT[k];
      buffer.copyWithin(at + k + 2, at + 1, from);
      buffer[at + k] = QUOTE;
      buffer[at + k + 1] = QUOTE;
      from = at;
    }
    buffer[end + quotes] = QUOTE;
    this.used = end + quotes + 1;
  }

  /** Appends UTF-8 bytes as they are. */
  writeBytes(bytes: Buffer): void {
    // a copy: the bytes are a view of a buffer its owner uses again
    if (!this.makeRoom(bytes.length)) return this.pushLarge(Buffer.from(bytes));
    this.used += bytes.copy(this.buffer, this.used);
  }

  /** Whether the compressor or the disk is behind: then await drained() before writing much more. */
  get full(): boolean {
    return this.archive.full;
  }

  /** Appends text; when it returns true, await drained() before much more (back-pressure). */
  write(text: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit
    if (!this.makeRoom(text.length * 3)) {
      this.pushLarge(Buffer.from(text, 'utf8'));
      return this.archive.full;
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    return this.archive.full;
  }

  /** Resolves once the archive has room again (at once, mostly); rejects if the archive failed. */
  drained(): Promise<void> {
    return this.archive.drained();
  }

  private flush(): void {
    if (this.used === 0) return;
    const full = this.buffer;
    this.buffer = this.archive.takeBuffer();
    const chunk = full.subarray(0, this.used);
    this.used = 0;
    this.push(chunk, full);
  }

  /** Whether `bytes` more fit in the chunk, handing the chunk over first if they do not fit in what is left; false: they fit in no chunk. */
  private makeRoom(bytes: number): boolean {
    if (bytes > this.buffer.length - this.used) this.flush();
    return bytes <= this.buffer.length - this.used;
  }

  /** Text larger than a chunk, handed over in chunks of its own (after a flush). */
  private pushLarge(encoded: Buffer): void {
    for (let at = 0; at < encoded.length; at += CHUNK_BYTES) this.push(encoded.subarray(at, at + CHUNK_BYTES), undefined);
  }

  private push(chunk: Buffer, reusable: Buffer | undefined): void {
    this.bytes += chunk.length;
    this.crc = zlib.crc32(chunk, this.crc);
    this.archive.submit(this.part, chunk, reusable);
  }

  /** Ends the entry at once (its bytes go on being compressed and written). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.flush();
    this.archive.giveBack(this.buffer);
    this.archive.end(this.part, this.crc, this.bytes);
  }

  async close(): Promise<void> {
    this.finish();
    await this.drained();
  }
}

export class ArchiveWriter {
  private readonly file: ArchiveFile;
  private readonly deflater = new DeflatePool(DEFLATERS, DEFLATE_OPTIONS);
  /** entries not yet wholly in the file's buffer, in order, from `firstPart` on */
  private parts: Part[] = [];
  private firstPart = 0;
  private readonly records: ZipEntryRecord[] = [];
  private readonly spareBuffers: Buffer[] = [];
  private readonly copies: Promise<void>[] = [];
  private drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private emptyWaiter: (() => void) | undefined;
  private pending = 0;
  private failure: Error | undefined;
  private stopped = false;

  /**
   * `modified`: every entry's modification time. An export passes a time of its request (the end
   * of its data window) so that the same export written again is the same bytes; the default,
   * now, is for archives nobody compares.
   */
  constructor(filePath: string, private readonly modified: ZipTime = zipTime(new Date())) {
    // a write error (disk full) surfaces in drained() and close(), never as an unhandled rejection
    this.file = new ArchiveFile(filePath, () => this.pump(), (error) => this.fail(error));
  }

  /** A new entry; close it before opening the next. */
  entry(name: string): EntryWriter {
    return new EntryWriter(this, this.newPart(name));
  }

  /** A whole file from disk (e.g. a Parquet file written beside the archive), read as it is written. */
  addFile(filePath: string, name: string): void {
    const part = this.newPart(name);
    this.copies.push(this.copyFile(filePath, part).catch((error: Error) => this.fail(error)));
  }

  addText(name: string, text: string): void {
    const entry = this.entry(name);
    entry.write(text);
    entry.finish();
  }

  /** Whether the compressor or the disk is behind. */
  get full(): boolean {
    return this.pending >= MAX_PENDING;
  }

  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.full || this.stopped) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** Gives up on a failed export: stops writing and closes the file (the caller removes it). */
  async abort(): Promise<void> {
    this.stop();
    await Promise.all(this.copies);
    await this.file.abort();
  }

  /** Writes the central directory and waits until the file is complete on disk. */
  async close(): Promise<void> {
    await Promise.all(this.copies);
    if (this.unwritten && !this.failure) await new Promise<void>((resolve) => { this.emptyWaiter = resolve; });
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    this.stop();
    await this.file.finish(centralDirectory(this.records, this.file.position, this.modified));
  }

  /** @internal a chunk buffer for an EntryWriter: a spare one when there is one */
  takeBuffer(): Buffer {
    return this.spareBuffers.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** @internal */
  giveBack(buffer: Buffer): void {
    if (this.spareBuffers.length < MAX_PENDING) this.spareBuffers.push(buffer);
  }

  /** @internal hands a chunk to the compressor; `reusable` (the buffer holding it) is kept for another when it is done */
  submit(part: Part, chunk: Buffer, reusable: Buffer | undefined): void {
    if (this.stopped) return;
    const piece = new Chunk();
    part.pieces.push(piece);
    part.pending += 1;
    this.pending += 1;
    this.deflater.deflate(chunk, (error, output) => {
      if (error) return this.fail(error);
      piece.output = output;
      if (reusable) this.giveBack(reusable);
      this.pump();
    });
  }

  /** @internal the entry's last chunk is handed over: the final block and the descriptor follow */
  end(part: Part, crc: number, size: number): void {
    part.record.crc = crc;
    part.record.size = size;
    part.pieces.push(FINAL_BLOCK);
    part.ended = true;
    this.pump();
  }

  private newPart(name: string): Part {
    const part: Part = { record: { name: Buffer.from(name, 'utf8'), offset: 0, crc: 0, size: 0, compressedSize: 0 }, pieces: [], taken: 0, started: false, ended: false, pending: 0 };
    this.parts.push(part);
    return part;
  }

  /** Moves what is ready, in order, into the file's buffer (until one is missing or the buffer is busy). */
  private pump(): void {
    if (this.stopped) return;
    const file = this.file;
    while (this.firstPart < this.parts.length) {
      const part = this.parts[this.firstPart];
      if (!part.started) {
        part.record.offset = file.position;
        if (!file.append(localHeader(part.record.name, this.modified.dos))) break;
        part.started = true;
      }
      while (part.taken < part.pieces.length) {
        const piece = part.pieces[part.taken];
        const bytes = piece instanceof Chunk ? piece.output : piece;
        if (!bytes || !file.append(bytes)) return this.wake();
        part.record.compressedSize += bytes.length;
        part.taken += 1;
        if (piece instanceof Chunk) {
          this.pending -= 1;
          part.pending -= 1;
          const onTaken = part.onTaken;
          part.onTaken = undefined;
          onTaken?.();
        }
      }
      part.pieces.length = 0;
      part.taken = 0;
      if (!part.ended || !file.append(dataDescriptor(part.record))) break;
      this.records.push(part.record);
      this.firstPart += 1;
    }
    // dropped in batches: shift() at each of 70,000 tiny entries took seconds
    if (this.firstPart > 1000) {
      this.parts = this.parts.slice(this.firstPart);
      this.firstPart = 0;
    }
    this.wake();
  }

  /** Whether some entry is not yet wholly in the file's buffer. */
  private get unwritten(): boolean {
    return this.firstPart < this.parts.length;
  }

  /** Resolves who waits for room, or for every entry to be in the file's buffer. */
  private wake(): void {
    if (!this.full && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
    if (!this.unwritten && this.emptyWaiter) {
      this.emptyWaiter();
      this.emptyWaiter = undefined;
    }
  }

  /** Reads a file into chunks, at most MAX_PENDING of them ahead of the file's buffer. */
  private async copyFile(filePath: string, part: Part): Promise<void> {
    const handle = await fs.open(filePath, 'r');
    try {
      let crc = 0;
      let size = 0;
      for (;;) {
        while (part.pending >= MAX_PENDING && !this.stopped) await new Promise<void>((resolve) => { part.onTaken = resolve; });
        if (this.stopped) return;
        const buffer = this.takeBuffer();
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) {
          this.giveBack(buffer);
          break;
        }
        const chunk = buffer.subarray(0, bytesRead);
        crc = zlib.crc32(chunk, crc);
        size += bytesRead;
        this.submit(part, chunk, buffer);
      }
      this.end(part, crc, size);
    } finally {
      await handle.close();
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.stop();
  }

  /** No more compressing or writing; whoever waits is woken (with the failure, if any). */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.deflater.close();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
    this.emptyWaiter?.();
    this.emptyWaiter = undefined;
    for (const part of this.parts) {
      part.onTaken?.();
      part.onTaken = undefined;
    }
  }
}
