/**
 * The export archive: a ZIP written as a stream (yazl), every entry DEFLATE-compressed (the
 * original mixed in BZIP2 entries that Windows cannot open), ZIP64 where sizes need it. Entries
 * are written one after another; `entry()` hands out a text sink with back-pressure, so a
 * multi-gigabyte export never sits in memory.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/**
 * DEFLATE level 1: measured on 412,000 element-show points, level 6 (zlib's default) took 10.2 s
 * and 6.0 MB, level 3 7.7 s and 8.1 MB, level 1 7.3 s and 8.5 MB. On two cores the compressor
 * competes with PostgreSQL for the CPU, and an export's size matters far less than its time.
 */
const ZIP_LEVEL = 1;

/**
 * Text is encoded straight into buffers of this size, each handed to the zip stream whole (one
 * compression call each, no joining of lines).
 */
const CHUNK_BYTES = 256 * 1024;
const QUOTE = 0x22;
/** Where the quotes of the text being quoted are (a quote is one UTF-8 byte: at most a chunk of them). */
const QUOTE_AT = new Int32Array(CHUNK_BYTES);

export class EntryWriter {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private waiting = false;
  bytes = 0;

  constructor(private readonly stream: PassThrough) {}

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
    if (text.length * 3 + 2 > this.buffer.length - this.used) {
      this.flush();
      if (text.length * 3 + 2 > this.buffer.length) {
        this.write(`"${text.replaceAll('"', '""')}"`);
        return;
      }
    }
    this.buffer[this.used] = QUOTE;
    const start = this.used + 1;
    this.closeQuoted(start, start + this.buffer.write(text, start, 'utf8'));
  }

  /** The same for text already in UTF-8. */
  writeQuotedBytes(bytes: Buffer): void {
    // a doubled quote takes 2 bytes, and the two quotes
    if (bytes.length * 2 + 2 > this.buffer.length - this.used) {
      this.flush();
      if (bytes.length * 2 + 2 > this.buffer.length) {
        this.write(`"${bytes.toString('utf8').replaceAll('"', '""')}"`);
        return;
      }
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
    if (bytes.length > this.buffer.length - this.used) {
      this.flush();
      if (bytes.length > this.buffer.length) {
        this.push(Buffer.from(bytes));
        return;
      }
    }
    this.used += bytes.copy(this.buffer, this.used);
  }

  /** Whether the zip stream is behind: then await drained() before writing much more. */
  get full(): boolean {
    return this.waiting;
  }

  /** Appends text; when it returns true, await drained() before much more (back-pressure). */
  write(text: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit
    if (text.length * 3 > this.buffer.length - this.used) {
      this.flush();
      if (text.length * 3 > this.buffer.length) {
        this.push(Buffer.from(text, 'utf8'));
        return this.waiting;
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    return this.waiting;
  }

  /** Resolves once the zip stream has taken what was written (at once, mostly). */
  async drained(): Promise<void> {
    if (this.waiting) await once(this.stream, 'drain');
    this.waiting = false;
  }

  private flush(): void {
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.push(chunk);
  }

  private push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) this.waiting = true;
  }

  async close(): Promise<void> {
    this.flush();
    await this.drained();
    this.stream.end();
  }
}

export class ArchiveWriter {
  private readonly zip = new yazl.ZipFile();
  private readonly done: Promise<void>;
  private readonly mtime = new Date();

  private readonly file: fs.WriteStream;

  constructor(filePath: string) {
    this.file = fs.createWriteStream(filePath);
    this.done = pipeline(this.zip.outputStream, this.file);
    // A write error (disk full) surfaces in close() or abort(), not as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** A new entry; close it before opening the next. */
  entry(name: string): EntryWriter {
    const stream = new PassThrough({ highWaterMark: 2 * CHUNK_BYTES });
    this.zip.addReadStream(stream, name, { mtime: this.mtime, compress: true, compressionLevel: ZIP_LEVEL });
    return new EntryWriter(stream);
  }

  /** A whole file from disk (e.g. a Parquet file written beside the archive). */
  addFile(filePath: string, name: string): void {
    this.zip.addFile(filePath, name, { mtime: this.mtime, compress: true, compressionLevel: ZIP_LEVEL });
  }

  addText(name: string, text: string): void {
    this.zip.addBuffer(Buffer.from(text, 'utf8'), name, { mtime: this.mtime, compress: true, compressionLevel: ZIP_LEVEL });
  }

  /** Gives up on a failed export: stops writing and closes the file (the caller removes it). */
  async abort(): Promise<void> {
    (this.zip.outputStream as unknown as PassThrough).unpipe?.();
    this.file.destroy();
    await this.done.catch(() => undefined);
  }

  /** Writes the central directory and waits until the file is complete on disk. */
  async close(): Promise<void> {
    this.zip.end();
    await this.done;
  }
}
