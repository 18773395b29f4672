/**
 * The archive's bytes on disk: appended in order, gathered into 1 MB buffers and written one
 * buffer at a time through a FileHandle (while one is written the other fills), so the main
 * thread pays one write per megabyte, not one per compressed piece.
 */
import fs from 'node:fs/promises';

const WRITE_BYTES = 1024 * 1024;

export class ArchiveFile {
  /** Bytes appended so far: where the next one will be in the file. */
  position = 0;
  private buffer: Buffer = Buffer.allocUnsafe(WRITE_BYTES);
  private spare: Buffer | undefined = Buffer.allocUnsafe(WRITE_BYTES);
  private used = 0;
  private written = 0;
  private writing: Promise<void> | undefined;
  private readonly handle: Promise<fs.FileHandle>;
  private failure: Error | undefined;

  /**
   * `onWritten` is called when a buffer is on disk (appending may go on), `onError` on the
   * first failure (the file cannot be opened, the disk is full); appending stops then.
   */
  constructor(filePath: string, private readonly onWritten: () => void, private readonly onError: (error: Error) => void) {
    this.handle = fs.open(filePath, 'w');
    this.handle.catch((error: Error) => this.fail(error));
  }

  /** Appends `bytes` if there is room now; false when the caller should wait for `onWritten`. */
  append(bytes: Buffer): boolean {
    if (this.failure) return false;
    if (this.used + bytes.length > this.buffer.length) {
      if (this.writing) return false;
      this.startWrite();
      // larger than a write buffer (not made by the archive: its pieces are at most ~260 KB)
      if (bytes.length > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes.length);
    }
    bytes.copy(this.buffer, this.used);
    this.used += bytes.length;
    this.position += bytes.length;
    return true;
  }

  private startWrite(): void {
    const full = this.buffer;
    this.buffer = this.spare ?? Buffer.allocUnsafe(WRITE_BYTES);
    this.spare = undefined;
    const data = full.subarray(0, this.used);
    this.used = 0;
    this.writing = this.writeAt(data).then(() => {
      if (full.length === WRITE_BYTES) this.spare = full;
      this.writing = undefined;
      this.onWritten();
    }, (error: Error) => this.fail(error));
  }

  private async writeAt(data: Buffer): Promise<void> {
    const position = this.written;
    this.written += data.length;
    const handle = await this.handle;
    for (let done = 0; done < data.length;) {
      const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** Writes what is gathered and `tail` (the central directory), then closes the file. */
  async finish(tail: Buffer): Promise<void> {
    try {
      await this.writing;
      if (this.failure) throw this.failure;
      await this.writeAt(this.buffer.subarray(0, this.used));
      await this.writeAt(tail);
      this.position += tail.length;
    } finally {
      await this.closeHandle();
    }
  }

  /** Stops: waits for the write under way, then closes the file (the caller removes it). */
  async abort(): Promise<void> {
    this.failure ??= new Error('the archive was aborted');
    await this.writing;
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const handle = await this.handle.catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.onError(error);
  }
}
