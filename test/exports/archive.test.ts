/**
 * The export archive's ZIP (archive.ts, zip-records.ts), read back by three independent readers:
 * yauzl, Info-ZIP's `unzip -t` (every entry's CRC and sizes) and Python's zipfile. ZIP64 records
 * are checked field by field on fabricated entries (an entry over 4 GiB takes too long to
 * compress here) and read by the three readers in a sparse file whose entry lies past 4 GiB.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/exports/archive.ts';
import { tsvLine, writeTsvRow } from '../../src/exports/tsv.ts';
import { Utf8Text } from '../../src/exports/utf8-text.ts';
import { centralDirectory, dataDescriptor, dosDateTime, localHeader, zipTime, type ZipEntryRecord } from '../../src/exports/zip-records.ts';
import yauzl from 'yauzl';
import { readZip, tempDir } from './support.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function unzipTest(file: string): string {
  // exit code 0 only when every entry is sound (CRC, sizes, names)
  return execFileSync('unzip', ['-t', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Each entry's name and the SHA-256 of its bytes, as Python's zipfile reads them. */
function pythonDigests(file: string): Map<string, string> {
  const script = 'import hashlib, json, sys, zipfile\n'
    + 'z = zipfile.ZipFile(sys.argv[1])\n'
    + 'print(json.dumps([[i.filename, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))\n';
  const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return new Map(JSON.parse(out) as [string, string][]);
}

/** Several MB of varied text (not one line repeated: DEFLATE must do real work across chunks). */
function variedText(bytes: number): string {
  const lines: string[] = [];
  let length = 0;
  let seed = 7;
  for (let i = 0; length < bytes; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const line = `${i}\t<div data-asin="B0${seed.toString(36).toUpperCase()}" class="s-result">Product ${seed % 9973} – “${(seed >>> 3).toString(16)}” ünïcødé</div>\t${(seed % 100_000) / 100}\r\n`;
    lines.push(line);
    length += Buffer.byteLength(line);
  }
  return lines.join('');
}

/** yauzl's list of names, and the bytes of the entries `wanted` (from memory: 70,000 entries read from the file take 10-15 s). */
function yauzlList(file: string, wanted: Set<string>): Promise<{ names: string[]; data: Map<string, Buffer> }> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(fs.readFileSync(file), { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      const data = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        if (!wanted.has(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            data.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve({ names, data }));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** The files this process has open at `file` (from /proc: what a leaked handle would show). */
function openHandlesTo(file: string): number {
  const fds = fs.readdirSync('/proc/self/fd');
  return fds.filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

describe('ArchiveWriter: what it writes, three readers read back', () => {
  it('empty, one-byte, many-chunk, UTF-8-named, text and file entries, byte for byte', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'archive.zip');
    const big = variedText(5_000_000);
    const sideFile = path.join(dir, 'side.bin');
    // a file of 700 KB: three chunks, the last one short, and bytes that are not text
    fs.writeFileSync(sideFile, Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7919) % 251)));
    const expected = new Map<string, Buffer>();

    const archive = new ArchiveWriter(file);
    await archive.entry('empty.txt').close();
    expected.set('empty.txt', Buffer.alloc(0));
    const one = archive.entry('one.txt');
    one.byte(0x41);
    await one.close();
    expected.set('one.txt', Buffer.from('A'));
    const many = archive.entry('many.txt');
    // written as an export writes: lines, with back-pressure
    for (const line of big.split(/(?<=\r\n)/)) if (many.write(line)) await many.drained();
    await many.close();
    expect(many.bytes).toBe(Buffer.byteLength(big));
    expected.set('many.txt', Buffer.from(big));
    const name = 'données/ünïcødé 名前 🎉.txt';
    const utf8 = archive.entry(name);
    utf8.write('é🎉\n');
    await utf8.close();
    expected.set(name, Buffer.from('é🎉\n'));
    archive.addFile(sideFile, 'side.bin');
    expected.set('side.bin', fs.readFileSync(sideFile));
    // one string larger than a chunk, written at once
    const long = 'x'.repeat(300_000) + big.slice(0, 400_000);
    const huge = archive.entry('one-long-string.txt');
    huge.write(long);
    await huge.close();
    expected.set('one-long-string.txt', Buffer.from(long));
    archive.addText('README.txt', 'read me\r\n');
    expected.set('README.txt', Buffer.from('read me\r\n'));
    await archive.close();

    const entries = await readZip(file);
    expect(entries.map((entry) => entry.name)).toEqual([...expected.keys()]);
    for (const entry of entries) {
      expect(entry.method, entry.name).toBe(8);
      expect(entry.data.equals(expected.get(entry.name)!), entry.name).toBe(true);
    }
    expect(unzipTest(file)).toMatch(/No errors detected in compressed data/);
    expect(pythonDigests(file)).toEqual(new Map([...expected].map(([entryName, data]) => [entryName, sha256(data)])));
    expect(unhandled).toEqual([]);
  });

  it('writeQuoted writes what tsvLine writes for quoted cells: quotes doubled, UTF-8, any number of them', async () => {
    const cases = ['"', '""', 'a"b', '"a"', 'x\ty', 'line\r\nbreak', 'ünï"cødé" 🎉"', '"'.repeat(1000), `<div class="a" data-x='"'>${'"q"'.repeat(300)}</div>`, 'é'.repeat(90_000) + '"'];
    const file = path.join(tempDir(), 'quoted.zip');
    const archive = new ArchiveWriter(file);
    const writer = archive.entry('quoted.txt');
    for (const text of cases) {
      writer.writeQuoted(text);
      writer.byte(0x0a);
    }
    await writer.close();
    await archive.close();
    const expected = cases.map((text) => tsvLine([text]).replace(/\r\n$/, '\n')).join('');
    const [entry] = await readZip(file);
    expect(entry.data.toString('utf8')).toBe(expected);
  });

  it('rows of text still in UTF-8 (Utf8Text) are written byte for byte as tsvLine writes them as strings', async () => {
    // quotes, tabs, CR, LF, none of them; multi-byte characters; larger than a chunk
    const texts = ['plain', 'a"b', '"', 'x\ty', 'cr\rlf\n', 'ünï"cødé" 🎉', `<div class="a">${'"q" '.repeat(300)}</div>`, 'é'.repeat(150_000) + '"', 'ö'.repeat(140_000)];
    const rows: unknown[][] = [...texts.map((text) => [text, 1, text]), [''], ['', ''], [null, 'x"y']];
    const file = path.join(tempDir(), 'bytes.zip');
    const archive = new ArchiveWriter(file);
    const writer = archive.entry('bytes.txt');
    for (const row of rows) {
      // each string cell a view of a larger buffer, as PostgreSQL's bytes in a COPY batch, overwritten once written
      const batches: Buffer[] = [];
      const cells = row.map((cell) => {
        if (typeof cell !== 'string') return cell;
        const before = Buffer.from('\t"x\r\n');
        const batch = Buffer.concat([before, Buffer.from(cell), Buffer.from('"\t\n')]);
        batches.push(batch);
        return new Utf8Text(batch.subarray(before.length, before.length + Buffer.byteLength(cell)));
      });
      writeTsvRow(writer, cells.length, (i) => cells[i]);
      for (const batch of batches) batch.fill(0x21);
    }
    await writer.close();
    await archive.close();
    const [entry] = await readZip(file);
    expect(entry.data.toString('utf8')).toBe(rows.map((row) => tsvLine(row)).join(''));
  });

  it('more than 65,535 entries: the ZIP64 end records, read by yauzl, unzip and Python', async () => {
    const file = path.join(tempDir(), 'many-entries.zip');
    const count = 70_000;
    const archive = new ArchiveWriter(file);
    for (let i = 0; i < count; i++) {
      const entry = archive.entry(`e/${i}.txt`);
      if (i % 10_000 === 0) entry.write(`entry ${i}\n`);
      await entry.close();
    }
    await archive.close();

    const { names, data } = await yauzlList(file, new Set(['e/60000.txt', 'e/60001.txt', `e/${count - 1}.txt`]));
    expect(names.length).toBe(count);
    expect(names[count - 1]).toBe(`e/${count - 1}.txt`);
    expect(data.get('e/60000.txt')!.toString()).toBe('entry 60000\n');
    expect(data.get('e/60001.txt')!.length).toBe(0);
    expect(unzipTest(file)).toMatch(/No errors detected in compressed data/);
    const python = pythonDigests(file);
    expect(python.size).toBe(count);
    expect(python.get('e/60000.txt')).toBe(sha256(Buffer.from('entry 60000\n')));
  });
});

describe('ArchiveWriter: failures', () => {
  it('a full disk surfaces in drained() or close(), never as an unhandled rejection, and abort() closes the file', async () => {
    const archive = new ArchiveWriter('/dev/full');
    const entry = archive.entry('data.txt');
    const text = variedText(4_000_000);
    const failed = (async () => {
      for (const line of text.split(/(?<=\r\n)/)) if (entry.write(line)) await entry.drained();
      await entry.close();
      await archive.close();
    })();
    await expect(failed).rejects.toMatchObject({ code: 'ENOSPC' });
    await archive.abort();
    expect(openHandlesTo('/dev/full')).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('a file that cannot be created fails close(), with no unhandled rejection', async () => {
    const archive = new ArchiveWriter(path.join(tempDir(), 'no-such-folder', 'archive.zip'));
    archive.addText('README.txt', 'x');
    await expect(archive.close()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(unhandled).toEqual([]);
  });

  it('abort() in the middle of an entry stops, closes the file and leaves no handle open', async () => {
    const file = path.join(tempDir(), 'aborted.zip');
    const archive = new ArchiveWriter(file);
    const side = path.join(path.dirname(file), 'side.bin');
    fs.writeFileSync(side, Buffer.alloc(3_000_000, 7));
    archive.addFile(side, 'side.bin');
    const entry = archive.entry('data.txt');
    // chunks handed to the compressor and not waited for
    entry.write(variedText(3_000_000));
    await archive.abort();
    expect(openHandlesTo(file)).toBe(0);
    expect(openHandlesTo(side)).toBe(0);
    fs.rmSync(file);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  });
});

describe('zip-records: ZIP64 where sizes, offsets or the count need it', () => {
  const name = Buffer.from('big.txt');
  const record = (values: Partial<ZipEntryRecord>): ZipEntryRecord => ({ name, offset: 0, crc: 0x12345678, size: 10, compressedSize: 5, ...values });
  const mtime = new Date(2026, 11, 6, 12, 30, 10);
  const CENTRAL = 0x02014b50;

  /** The central header's 32-bit fields and its ZIP64 extra field's values, if any. */
  function central(entry: ZipEntryRecord) {
    const directory = centralDirectory([entry], 0, zipTime(mtime));
    expect(directory.readUInt32LE(0)).toBe(CENTRAL);
    const extraLength = directory.readUInt16LE(30);
    const extra = directory.subarray(46 + name.length, 46 + name.length + extraLength);
    let zip64: bigint[] | undefined;
    for (let at = 0; at < extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
      if (extra.readUInt16LE(at) === 0x0001) {
        const size = extra.readUInt16LE(at + 2);
        zip64 = Array.from({ length: size / 8 }, (_, i) => extra.readBigUInt64LE(at + 4 + i * 8));
      }
    }
    return { versionNeeded: directory.readUInt16LE(6), compressedSize: directory.readUInt32LE(20), size: directory.readUInt32LE(24), offset: directory.readUInt32LE(42), zip64 };
  }

  it('sizes and offsets up to 0xfffffffe stay 32-bit; 0xffffffff and above use the ZIP64 field and a 64-bit descriptor', () => {
    const small = record({ size: 0xfffffffe, compressedSize: 0xfffffffe, offset: 0xfffffffe });
    expect(central(small)).toMatchObject({ versionNeeded: 20, size: 0xfffffffe, compressedSize: 0xfffffffe, offset: 0xfffffffe, zip64: undefined });
    expect(dataDescriptor(small).length).toBe(16);

    const big = record({ size: 5 * 2 ** 32 + 3, compressedSize: 0xffffffff, offset: 7 });
    expect(central(big)).toMatchObject({ versionNeeded: 45, size: 0xffffffff, compressedSize: 0xffffffff, offset: 0xffffffff, zip64: [BigInt(5 * 2 ** 32 + 3), 0xffffffffn, 7n] });
    const descriptor = dataDescriptor(big);
    expect(descriptor.length).toBe(24);
    expect(descriptor.readUInt32LE(0)).toBe(0x08074b50);
    expect(descriptor.readUInt32LE(4)).toBe(0x12345678);
    expect(descriptor.readBigUInt64LE(8)).toBe(0xffffffffn);
    expect(descriptor.readBigUInt64LE(16)).toBe(BigInt(5 * 2 ** 32 + 3));
  });

  it('an entry that is small but starts past 4 GiB has the ZIP64 field, so its descriptor has 64-bit sizes (APPNOTE 4.3.9.2)', () => {
    const far = record({ offset: 2 ** 32 + 100 });
    expect(central(far).zip64).toEqual([10n, 5n, BigInt(2 ** 32 + 100)]);
    const descriptor = dataDescriptor(far);
    expect(descriptor.length).toBe(24);
    expect(descriptor.readBigUInt64LE(8)).toBe(5n);
    expect(descriptor.readBigUInt64LE(16)).toBe(10n);
  });

  it('65,535 entries or more get the ZIP64 end records; the end record says 0xffff only where a field overflows', () => {
    const entries = (count: number) => Array.from({ length: count }, () => record({}));
    const END = 0x06054b50;
    const endOf = (directory: Buffer) => directory.subarray(directory.length - 22);
    const fewer = centralDirectory(entries(65_534), 1000, zipTime(mtime));
    expect(endOf(fewer).readUInt32LE(0)).toBe(END);
    expect(endOf(fewer).readUInt16LE(10)).toBe(65_534);
    expect(fewer.indexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(-1);

    const more = centralDirectory(entries(65_535), 1000, zipTime(mtime));
    const end = endOf(more);
    expect(end.readUInt16LE(8)).toBe(0xffff);
    expect(end.readUInt16LE(10)).toBe(0xffff);
    expect(end.readUInt32LE(16)).toBe(1000); // the directory's offset fits: kept
    const locator = more.subarray(more.length - 22 - 20, more.length - 22);
    expect(locator.readUInt32LE(0)).toBe(0x07064b50);
    const end64At = Number(locator.readBigUInt64LE(8)) - 1000;
    const end64 = more.subarray(end64At, end64At + 56);
    expect(end64.readUInt32LE(0)).toBe(0x06064b50);
    expect(end64.readBigUInt64LE(4)).toBe(44n);
    expect(end64.readBigUInt64LE(32)).toBe(65_535n);
    expect(end64.readBigUInt64LE(48)).toBe(1000n);
  });

  it('a name longer than its 16-bit length field is refused with a clear error', () => {
    expect(() => localHeader(Buffer.alloc(70_000, 0x61), dosDateTime(mtime))).toThrow(/at most 65535 bytes/);
  });

  it('an entry past 4 GiB in a (sparse) file is read by yauzl, unzip and Python', async () => {
    const file = path.join(tempDir(), 'far.zip');
    const data = Buffer.from(variedText(100_000));
    const compressed = zlib.deflateRawSync(data, { level: 1 });
    const offset = 2 ** 32 + 4096;
    const entry: ZipEntryRecord = { name: Buffer.from('far.txt'), offset, crc: zlib.crc32(data), size: data.length, compressedSize: compressed.length };
    const modified = dosDateTime(mtime);
    const body = Buffer.concat([localHeader(entry.name, modified), compressed, dataDescriptor(entry)]);
    const fd = fs.openSync(file, 'w');
    try {
      // what lies before the entry is a hole: no disk space, and no reader looks there
      fs.writeSync(fd, body, 0, body.length, offset);
      const directory = centralDirectory([entry], offset + body.length, zipTime(mtime));
      fs.writeSync(fd, directory, 0, directory.length, offset + body.length);
    } finally {
      fs.closeSync(fd);
    }
    const [read] = await readZip(file);
    expect(read.name).toBe('far.txt');
    expect(read.data.equals(data)).toBe(true);
    expect(unzipTest(file)).toMatch(/No errors detected in compressed data/);
    expect(pythonDigests(file)).toEqual(new Map([['far.txt', sha256(data)]]));
    fs.rmSync(file);
  });
});
